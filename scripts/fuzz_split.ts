/**
 * A seeded fuzz of the byte splitter (`src/act/split_rows.ts`) against `JSON.parse`: generated
 * list bodies, valid ones and subtly broken ones (a character dropped, doubled or changed, a
 * comma added, whitespace JSON does not allow), each read both ways.
 *
 * What must hold: when `JSON.parse` reads the body as a list (a bare array of objects, or an
 * object whose `value` is one), the splitter gives the same rows; when `JSON.parse` refuses it,
 * the splitter refuses it too (no split), or stands an `UnparsedRow` in for a row, never a row
 * `JSON.parse` would not give. `parseListBytes` (what the client reads with) then throws or
 * returns rows with an `UnparsedRow` among them.
 *
 * ```sh
 * deno run -A scripts/fuzz_split.ts --count 100000 --seed 1     # or: bun scripts/fuzz_split.ts …
 * ```
 *
 * The gate runs it with a small count (`tests/split_rows_test.ts`). Prints the mismatches and a
 * summary line; exits 1 on any mismatch.
 *
 * @module
 */
import { isDeepStrictEqual, parseArgs } from "node:util";
import process from "node:process";
import { UnparsedRow } from "../src/act/body_errors.ts";
import { parseListBytes } from "../src/act/response_body.ts";
import { splitListBytes } from "../src/act/split_rows.ts";
import { random } from "./chaos.ts";

/** A body the splitter and `JSON.parse` read differently. */
export interface Mismatch {
  body: string;
  problem: string;
}

const SPACES = [" ", "\n", "\r", "\t", ""];
const ODD_SPACES = ["\u00a0", "\f", "\v", "\ufeff", "\u2028", "\u3000", "\u0085"];
const KEYS = ["", "a", "é", "😀", "]},{[", "value", "b c"];
const STRINGS = ["", "a", "é", '\\"', "\\\\", "\\u00e4", "\\ud83d\\ude00", "😀", "]},{[", "value"];

function generator(rnd: () => number) {
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const ws = () => rnd() < 0.7 ? "" : pick(SPACES);
  const value = (depth: number): string => {
    const r = rnd();
    if (r < 0.25) return `"${pick(STRINGS)}"`;
    if (r < 0.45) return String(int(2000) - 1000) + (rnd() < 0.2 ? `.${int(100)}` : "");
    if (r < 0.55) return pick(["true", "false", "null"]);
    if (depth > 3) return "0";
    if (r < 0.75) {
      return `[${ws()}${Array.from({ length: int(4) }, () => value(depth + 1)).join(`,${ws()}`)}]`;
    }
    return object(depth + 1);
  };
  // Keys are unique within an object and hold no escape: V8's JSON.parse (Deno 2.9) does not
  // always keep the last of two equal escaped keys (`{"\u00e4":1,"\u00e4":0,"\\":0}` reads ä as
  // 1) and, depending on the objects it parsed before, drops a key such as `"\""`; Bun's does
  // neither. The escapes inside string values take the same path through the splitter.
  const keys = (from: readonly string[]) => from.filter(() => rnd() < 0.3).slice(0, 4);
  const object = (depth: number): string =>
    `{${ws()}${
      keys(KEYS).map((key) => `"${key}"${ws()}:${ws()}${value(depth)}`).join(`${ws()},${ws()}`)
    }${ws()}}`;
  const row = (): string => {
    const fields = keys(["a", "b", "value"]).map((key) => `"${key}":${value(1)}`);
    return `{"id":"${int(1000)}"${fields.map((f) => `,${ws()}${f}`).join("")}}`;
  };
  const body = (): string => {
    const rows = Array.from({ length: int(5) }, row).join(`${ws()},${ws()}`);
    const array = `[${ws()}${rows}${ws()}]`;
    const shape = rnd();
    const inner = shape < 0.4
      ? array
      : shape < 0.8
      ? `{"value":${ws()}${array}${rnd() < 0.5 ? `,"Count":${int(9)}` : ""}}`
      : `{"@odata.context":"x",${ws()}"value":${array}}`;
    return `${rnd() < 0.1 ? "\ufeff" : ""}${ws()}${inner}${ws()}`;
  };
  /** A small change that usually makes the body invalid JSON. */
  const broken = (text: string): string => {
    const at = int(text.length + 1);
    switch (int(7)) {
      case 0:
        return text.slice(0, at) + text.slice(at + 1); // drop one
      case 1:
        return text.slice(0, at) + text[at] + text.slice(at); // double one
      case 2:
        return text.slice(0, at) + pick([",", "]", "}", '"', "\\", ":", "x"]) + text.slice(at + 1);
      case 3:
        return text.replace(/\](\s*)(\}?\s*)$/, ",]$1$2"); // a trailing comma
      case 4:
        return pick(ODD_SPACES) + text; // whitespace JSON does not allow
      case 5:
        return text + pick(ODD_SPACES);
      default:
        return text.slice(0, at) + pick(ODD_SPACES) + text.slice(at);
    }
  };
  return { body, broken, chance: (p: number) => rnd() < p };
}

/** What `JSON.parse` makes of a list body: its rows, or null when it is no list. */
function reference(text: string): Record<string, unknown>[] | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const rows = Array.isArray(data) ? data : isObject(data) ? data.value : undefined;
  if (!Array.isArray(rows) || !rows.every(isObject)) return null;
  return rows;
}

/** Read `count` generated bodies (seeded) both ways; returns every mismatch. */
export function fuzzSplit(seed: number, count: number): Mismatch[] {
  const gen = generator(random(seed));
  const encoder = new TextEncoder();
  const decoder = new TextDecoder(); // drops one leading byte order mark, as a client does
  const mismatches: Mismatch[] = [];
  for (let i = 0; i < count; i++) {
    const valid = gen.body();
    const body = gen.chance(0.6) ? gen.broken(valid) : valid;
    const bytes = encoder.encode(body);
    const want = reference(decoder.decode(bytes)); // what the bytes hold (a lone surrogate cannot be sent)
    const split = splitListBytes(bytes, "application/json");
    const entries = split?.rows.entries() ?? null;
    let parsed: Record<string, unknown>[] | null;
    try {
      parsed = parseListBytes(bytes, "application/json").rows;
    } catch {
      parsed = null;
    }
    const problem = (text: string) => mismatches.push({ body, problem: text });
    if (want !== null) {
      if (parsed === null || !isDeepStrictEqual(parsed, want)) {
        problem(
          `JSON.parse reads ${want.length} rows, parseListBytes ${
            parsed === null ? "refuses the body" : "gives other rows"
          }`,
        );
      }
      if (split !== null && !isDeepStrictEqual(entries, want)) {
        problem("the splitter's rows differ from JSON.parse's");
      }
      continue;
    }
    const unparsed = (rows: unknown[] | null) => rows?.some((r) => r instanceof UnparsedRow);
    if (entries !== null && !unparsed(entries)) {
      problem("JSON.parse refuses the body, the splitter reads every row of it");
    }
    if (parsed !== null && !unparsed(parsed)) {
      problem("JSON.parse refuses the body, parseListBytes reads every row of it");
    }
  }
  return mismatches;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      count: { type: "string", default: "20000" },
      seed: { type: "string", default: "1" },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  const mismatches = fuzzSplit(seed, count);
  for (const m of mismatches.slice(0, 20)) console.log(`${m.problem}: ${JSON.stringify(m.body)}`);
  console.log(
    `fuzz_split: ${count} bodies, seed ${seed}: ${mismatches.length} mismatches: ${
      mismatches.length === 0 ? "OK" : "FAILED"
    }`,
  );
  return await Promise.resolve(mismatches.length === 0 ? 0 : 1);
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
