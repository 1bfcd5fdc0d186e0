/**
 * JSON with numbers kept exactly: what `JSON.parse` would round or turn into `Infinity` is kept
 * as a `bigint` or as the literal itself.
 *
 * @module
 */

/**
 * A number literal right after `:`, `,` or `[` that `JSON.parse` may not keep exactly: 16 or more
 * digits (a point among them), or an exponent of 3 or more digits. Fewer than 16 significant
 * digits within a double's range always read back as written. (Inside a string it only costs the
 * slow path.)
 */
const INEXACT_NUMBER = /[:,[]\s*-?(?:[\d.]{16}|[\d.]+[eE][+-]?\d{3})/;

// `JSON.rawJSON` / `JSON.isRawJSON` (V8 and JavaScriptCore), not yet in TypeScript's lib.
const json = JSON as unknown as {
  rawJSON(text: string): object;
  isRawJSON(value: unknown): boolean;
};

/**
 * A number literal kept as given (`1e400`, `0.10000000000000000001`): `JSON.stringify` writes it
 * back unchanged; {@linkcode numberLiteral} reads it.
 */
export type NumberLiteral = object;

/** The literal of a {@linkcode NumberLiteral}, or null when `value` is none. */
export function numberLiteral(value: unknown): string | null {
  return json.isRawJSON(value) ? (value as { rawJSON: string }).rawJSON : null;
}

/**
 * `JSON.parse`, except that numbers are never changed: a value that is an integer beyond ±2^53
 * (`12345678901234567`, `12345678901234567e0`) becomes a `bigint` with its exact value (up to
 * int64; beyond it, only literals without a point or exponent), and any other literal that no
 * double holds exactly (`1e400`, `1e-400`, `0.10000000000000000001`) becomes a
 * {@linkcode NumberLiteral} of the literal as given, at any depth (in arrays too). Bodies without
 * such literals take the plain `JSON.parse` (works the same in V8 and JavaScriptCore: no reviver
 * `context.source`).
 */
export function parseExactJson(text: string): unknown {
  if (!INEXACT_NUMBER.test(text)) return JSON.parse(text);
  const marker = `\u0000act-sync-exact-${Math.random().toString(36).slice(2)}:`;
  let out = "";
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) { // a string: skip to its closing quote
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      continue;
    }
    if (c !== 45 && (c < 48 || c > 57)) continue;
    let j = i + 1;
    for (; j < n; j++) {
      const d = text.charCodeAt(j);
      if (!((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45)) {
        break;
      }
    }
    const kept = exactLiteral(text.slice(i, j));
    if (kept !== null) {
      out += text.slice(last, i) + JSON.stringify(marker + kept);
      last = j;
    }
    i = j - 1;
  }
  if (last === 0) return JSON.parse(text);
  out += text.slice(last);
  return JSON.parse(out, (_key, value) => {
    if (typeof value !== "string" || !value.startsWith(marker)) return value;
    const kept = value.slice(marker.length);
    return kept[0] === "i" ? BigInt(kept.slice(1)) : json.rawJSON(kept.slice(1));
  });
}

const LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * How to keep a number literal: null when `Number()` holds it exactly (or it is not valid JSON:
 * `JSON.parse` reports that), `i<digits>` for an integer beyond ±2^53, `t<literal>` for a literal
 * kept as given.
 */
function exactLiteral(literal: string): string | null {
  if (/^-?(?:0|[1-9]\d*)$/.test(literal)) {
    return literal.length < 16 || Number.isSafeInteger(Number(literal)) ? null : `i${literal}`;
  }
  if (!/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(literal)) return null;
  const wanted = decimal(literal);
  const value = Number(literal);
  if (Number.isFinite(value) && decimal(String(value)) === wanted) return null;
  // An integer value that fits int64 is kept as one; anything else as the literal itself.
  const [, sign, digits, exponent] = /^(-?)(\d+)e(-?\d+)$/.exec(wanted)!;
  const exp = Number(exponent);
  if (exp >= 0 && digits.length + exp <= 19) {
    const integer = BigInt(`${sign}${digits}${"0".repeat(exp)}`);
    if (integer < 2n ** 63n && integer >= -(2n ** 63n)) return `i${integer}`;
  }
  return `t${literal}`;
}

/** A literal's exact decimal value as `[-]digits e exponent`, without leading or trailing zeros. */
function decimal(literal: string): string {
  const m = LITERAL.exec(literal.replace(/[eE]\+?/, "e"));
  if (m === null) return "NaN"; // Infinity
  const [, sign, whole, fraction = "", exponent = "0"] = m;
  let digits = (whole + fraction).replace(/^0+/, "");
  if (digits === "") return "0e0";
  let exp = Number(exponent) - fraction.length;
  const kept = digits.replace(/0+$/, "");
  exp += digits.length - kept.length;
  digits = kept;
  return `${sign}${digits}e${exp}`;
}
