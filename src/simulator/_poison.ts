/**
 * Private: poison records, the `poison` switch. A poisoned record is served in a shape that
 * cannot be stored as it is, or that is easy to store wrongly; healing it (deleting its entry)
 * serves it normally again.
 *
 * @module
 */
import type { Row } from "./_data.ts";

/**
 * How a poisoned record is served:
 * - `deep`: a field nested 70 objects deep (more than act-sync's 64);
 * - `deep-array`: a field holding an array nested 100,000 deep;
 * - `bad-edited`: `edited` (`editdate`, `editDate`) is not a date (`"not a date"`);
 * - `not-json`: the record's text is not JSON (`{"id":"…","name":tru}`), its id still readable;
 * - `surrogate`: strings with unpaired surrogates (`"\udc00 alone"`, `["x\ud800"]`);
 * - `nul`: strings with NUL (`"a\u0000b"`, `["a\u0000b"]`);
 * - `big-numbers`: numbers no double holds, alone and in an array (`12345678901234567e0`,
 *   `[1e400,12345678901234567890,12345678901234567e0,-0.10000000000000000001]`).
 * The first four cannot be stored; the last three can, as documented.
 */
export type PoisonKind =
  | "deep"
  | "deep-array"
  | "bad-edited"
  | "not-json"
  | "surrogate"
  | "nul"
  | "big-numbers";

/** Every {@linkcode PoisonKind}. */
export const POISON_KINDS: readonly PoisonKind[] = [
  "deep",
  "deep-array",
  "bad-edited",
  "not-json",
  "surrogate",
  "nul",
  "big-numbers",
];

/** The kinds a record cannot be stored with (kept in `_act_rejected`). */
export const UNSTORABLE_KINDS: readonly PoisonKind[] = [
  "deep",
  "deep-array",
  "bad-edited",
  "not-json",
];

const MARKER = "\u0000poison:";

/**
 * A list answer's text: `rows` in their envelope, the poisoned ones (by id in `poison`) served
 * as their kind says.
 */
export function listText(
  rows: Row[],
  envelope: "value" | "array",
  poison: Readonly<Record<string, PoisonKind>>,
): string {
  const raws: string[] = [];
  const raw = (text: string) => `${MARKER}${raws.push(text) - 1}`;
  const served = Object.keys(poison).length === 0
    ? rows
    : rows.map((row) => poisoned(row, poison[String(row.id)], raw));
  const text = JSON.stringify(
    envelope === "value" ? { value: served, Count: rows.length } : served,
  );
  return raws.length === 0
    ? text
    : text.replace(/"\\u0000poison:(\d+)"/g, (_match, i: string) => raws[Number(i)]);
}

function poisoned(row: Row, kind: PoisonKind | undefined, raw: (text: string) => string): Row {
  if (kind === undefined) return row;
  const copy: Row = { ...row };
  switch (kind) {
    case "deep": {
      let value: unknown = { leaf: 1 };
      for (let i = 0; i < 70; i++) value = { a: value };
      copy.deep = value;
      break;
    }
    case "deep-array":
      copy.deepArray = raw("[".repeat(100_000) + "]".repeat(100_000));
      break;
    case "bad-edited":
      for (const key of ["edited", "editdate", "editDate"]) {
        if (key in copy) copy[key] = "not a date";
      }
      break;
    case "not-json":
      return raw(`{"id":${JSON.stringify(String(row.id))},"name":tru}`) as unknown as Row;
    case "surrogate":
      copy.lone = "\udc00 alone";
      copy.loneList = ["x\ud800"];
      break;
    case "nul":
      copy.nul = "a\u0000b";
      copy.nulList = ["a\u0000b"];
      break;
    case "big-numbers":
      copy.bigExp = raw("12345678901234567e0");
      copy.bigList = raw(
        "[1e400,12345678901234567890,12345678901234567e0,-0.10000000000000000001]",
      );
      break;
  }
  return copy;
}

/** A 200 answer with this JSON text. */
export function text200(text: string): Response {
  return new Response(text, { headers: { "content-type": "application/json; charset=utf-8" } });
}
