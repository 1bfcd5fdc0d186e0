/**
 * Private: reading Act! Web API response bodies (list envelopes, error objects, the JWT).
 *
 * @module
 */
import { excerpt } from "../core/secrets.ts";

/** Rows of one list response and the envelope they came in. */
export interface ParsedList {
  rows: Record<string, unknown>[];
  envelope: "value" | "array";
}

/** Thrown when a 2xx list body is not a JSON array or `{"value": [...]}`; retried, then fatal. */
export class UnusableBodyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnusableBodyError";
  }
}

/**
 * Thrown by {@linkcode LazyRows} for a row that is not a JSON object, after the call that
 * fetched the page has returned (so no retry covered it): the caller asks for the page again.
 */
export class UnusableRowError extends UnusableBodyError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnusableRowError";
  }
}

/**
 * What the functions here apply to a body before a piece of it goes into a message: the
 * client's redaction, so that the cut (after it) keeps no piece of a secret.
 */
export type Redact = (text: string) => string;

const asIs: Redact = (text) => text;

/** `text` redacted, then with its whitespace collapsed and cut to `max` characters. */
function cut(text: string, max: number, redact: Redact): string {
  return excerpt(redact(text), max);
}

function describe(text: string, contentType: string | null, redact: Redact): string {
  const type = contentType ? contentType : "no content type";
  const body = text.trim() === "" ? "an empty body" : `"${cut(text, 200, redact)}"`;
  return `${type}: ${body}`;
}

function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkRows(
  rows: unknown[],
  text: string,
  contentType: string | null,
  redact: Redact,
): void {
  const bad = rows.findIndex((row) => !isRow(row));
  if (bad !== -1) {
    const kind = rows[bad] === null
      ? "null"
      : Array.isArray(rows[bad])
      ? "array"
      : typeof rows[bad];
    throw new UnusableBodyError(
      `Cannot read list response: row ${bad} is ${kind}, not an object: got ${
        describe(text, contentType, redact)
      }`,
    );
  }
}

/**
 * Parse a list body: `{"value": [...], "Count": n}` or a bare JSON array. Anything else throws
 * {@linkcode UnusableBodyError} naming what came back.
 */
export function parseListBody(
  text: string,
  contentType: string | null,
  redact: Redact = asIs,
): ParsedList {
  const trimmed = text.trim();
  if (trimmed.startsWith("<") || /html|xml/i.test(contentType ?? "")) {
    throw new UnusableBodyError(
      `Cannot read list response: expected JSON, got ${describe(text, contentType, redact)}`,
    );
  }
  let data: unknown;
  try {
    data = parseExactJson(trimmed);
  } catch (error) {
    throw new UnusableBodyError(
      `Cannot read list response: invalid or truncated JSON (${text.length} characters), got ${
        describe(text, contentType, redact)
      }`,
      { cause: error },
    );
  }
  if (Array.isArray(data)) {
    checkRows(data, text, contentType, redact);
    return { rows: data as Record<string, unknown>[], envelope: "array" };
  }
  if (isRow(data)) {
    if (!("value" in data)) {
      throw new UnusableBodyError(
        `Cannot read list response: expected a JSON array or an object with "value", got an object with keys ${
          JSON.stringify(Object.keys(data).slice(0, 10))
        }: ${describe(text, contentType, redact)}`,
      );
    }
    if (!Array.isArray(data.value)) {
      throw new UnusableBodyError(
        `Cannot read list response: "value" is not an array: got ${
          describe(text, contentType, redact)
        }`,
      );
    }
    checkRows(data.value, text, contentType, redact);
    return { rows: data.value as Record<string, unknown>[], envelope: "value" };
  }
  throw new UnusableBodyError(
    `Cannot read list response: expected a JSON array or an object with "value", got ${
      describe(text, contentType, redact)
    }`,
  );
}

const UTF8 = new TextDecoder();
/** For text after the body's first byte: a U+FEFF there is a character, not a BOM to drop. */
const UTF8_KEEP_BOM = new TextDecoder("utf-8", { ignoreBOM: true });

/** Decode a response body as UTF-8 (invalid bytes become U+FFFD, as `Response.text()` does). */
export function decodeBody(bytes: Uint8Array): string {
  return UTF8.decode(bytes);
}

/**
 * {@linkcode parseListBody} from the body's bytes, without the body as one string: a 10,000-row
 * page is ~23 MB of UTF-8 but ~46 MB as a string (one non-Latin-1 character makes every character
 * two bytes), held while `JSON.parse` builds the rows. A well-formed array of objects (bare or in
 * `{"value": [...]}`) is split at its elements' boundaries and each element is decoded and parsed
 * alone; anything else (an error, an odd envelope, one bad element) takes the whole-text path,
 * which gives the same rows and the same error messages. `split` is the body's
 * {@linkcode splitListBytes}, when the caller has it already.
 */
export function parseListBytes(
  bytes: Uint8Array,
  contentType: string | null,
  split: ReturnType<typeof splitListBytes> = splitListBytes(bytes, contentType),
  redact: Redact = asIs,
): ParsedList {
  if (split !== null) {
    try {
      return { rows: split.rows.slice(0, split.rows.length), envelope: split.envelope };
    } catch {
      // one row is not what it seemed: the whole-text path says what is wrong
    }
  }
  return parseListBody(UTF8.decode(bytes), contentType, redact);
}

/**
 * The rows of a list body read one at a time from its bytes, none kept: a page's memory is its
 * bytes plus the rows being handled, not ~6 KB per row for the whole page at once.
 */
export class LazyRows {
  /** Number of rows. */
  readonly length: number;
  #bytes: Uint8Array;
  #split: SplitBody;
  #redact: Redact;

  constructor(bytes: Uint8Array, split: SplitBody, redact: Redact = asIs) {
    this.#bytes = bytes;
    this.#split = split;
    this.#redact = redact;
    this.length = split.starts.length;
  }

  /**
   * Row `i`, parsed now; throws {@linkcode UnusableRowError} naming the row when it is not a
   * JSON object (numbers kept exactly, see {@linkcode parseExactJson}).
   */
  at(i: number): Record<string, unknown> {
    const split = this.#split;
    const text = UTF8.decode(this.#bytes.subarray(split.starts[i], split.ends[i]));
    let row: unknown;
    try {
      row = split.exact[i] ? parseExactJson(text) : JSON.parse(text);
    } catch (error) {
      throw new UnusableRowError(
        `Cannot read list response: row ${i} is not valid JSON: got "${
          cut(text, 200, this.#redact)
        }"`,
        { cause: error },
      );
    }
    if (!isRow(row)) {
      throw new UnusableRowError(
        `Cannot read list response: row ${i} is not an object: got "${
          cut(text, 200, this.#redact)
        }"`,
      );
    }
    return row;
  }

  /** Rows `start` to `end - 1`, parsed now. */
  slice(start: number, end: number): Record<string, unknown>[] {
    const rows: Record<string, unknown>[] = new Array(Math.max(0, end - start));
    for (let i = start; i < end; i++) rows[i - start] = this.at(i);
    return rows;
  }
}

/**
 * A list body as {@linkcode LazyRows}: only its structure is checked here (brackets, strings,
 * commas, the envelope around the rows); each row is parsed when asked for. Null when the body
 * is anything but a well-formed array of objects, bare or in `{"value": [...]}`: then
 * {@linkcode parseListBody} reads it (or says what is wrong).
 */
export function splitListBytes(
  bytes: Uint8Array,
  contentType: string | null,
  redact: Redact = asIs,
): { rows: LazyRows; envelope: ParsedList["envelope"] } | null {
  const split = /html|xml/i.test(contentType ?? "") ? null : splitArray(bytes);
  if (split === null) return null;
  try {
    // The envelope without its array must be JSON too (and its "value" the only one).
    const outside = JSON.parse(
      `${UTF8.decode(bytes.subarray(0, split.open))}[]${
        UTF8_KEEP_BOM.decode(bytes.subarray(split.close + 1))
      }`,
    );
    if (split.envelope === "value" && !(isRow(outside) && Array.isArray(outside.value))) {
      return null;
    }
  } catch {
    return null;
  }
  return { rows: new LazyRows(bytes, split, redact), envelope: split.envelope };
}

/** Where the rows of a list body are: `[open` … `close]`, element `i` is `starts[i]..ends[i]`. */
interface SplitBody {
  envelope: "value" | "array";
  open: number;
  close: number;
  starts: number[];
  ends: number[];
  /** Rows holding a number literal of 16+ characters or with an exponent. */
  exact: boolean[];
}

const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d;
const VALUE_KEY = [0x76, 0x61, 0x6c, 0x75, 0x65]; // value

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Whether only whitespace follows `from`. */
function rest(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (!isSpace(bytes[i])) return false;
  return true;
}

/** Index of the quote closing the string whose opening quote is at `at`, or -1. */
function stringEnd(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  for (let i = at + 1; i < n; i++) {
    const b = bytes[i];
    if (b === QUOTE) return i;
    if (b === BACKSLASH) i++;
  }
  return -1;
}

/**
 * Find the row array of a list body and its elements, checking only structure (brackets,
 * strings, commas); null when the body is not a bare array of objects or an object with one
 * `"value"` array of objects at its top level. Elements are checked by parsing them.
 */
function splitArray(bytes: Uint8Array): SplitBody | null {
  const n = bytes.length;
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // a UTF-8 BOM
  while (i < n && isSpace(bytes[i])) i++;
  const envelope: SplitBody["envelope"] = bytes[i] === OPEN_ARRAY ? "array" : "value";
  if (envelope === "value" && bytes[i] !== OPEN_OBJECT) return null;
  const starts: number[] = [];
  const ends: number[] = [];
  let open = -1;
  let close = -1;
  let depth = 0;
  let rowDepth = -1; // depth of the row array's elements while inside it
  let after = false; // in the row array: an element just ended (a ',' or ']' must follow)
  let expectKey = false; // at depth 1 of an envelope object: the next string is a key
  let keyIsValue = false; // at depth 1: the last key was "value" and its value has not begun
  let number = 0; // length of the number literal being read
  const exact: boolean[] = []; // rows with a literal JSON.parse may change (see parseExactJson)
  for (; i < n; i++) {
    const b = bytes[i];
    if (depth === rowDepth) { // between the rows
      if (isSpace(b)) continue;
      if (b === OPEN_OBJECT && !after) {
        starts.push(i);
        depth++;
      } else if (b === COMMA && after) {
        after = false;
      } else if (b === CLOSE_ARRAY && (after || starts.length === 0)) {
        close = i;
        rowDepth = -1;
        if (--depth === 0) {
          return rest(bytes, i + 1) ? { envelope, open, close, starts, ends, exact } : null;
        }
      } else {
        return null; // a row that is not an object, or a misplaced ',' / ']'
      }
      continue;
    }
    if (b === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) return null;
      if (envelope === "value" && depth === 1) {
        // An escaped key may spell "value" (JSON.parse keeps the last one): let it decide.
        if (expectKey && bytes.subarray(i + 1, end).includes(BACKSLASH)) return null;
        keyIsValue = expectKey && end - i - 1 === 5 &&
          VALUE_KEY.every((c, k) => bytes[i + 1 + k] === c);
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      depth++;
      if (envelope === "array" && depth === 1) {
        open = i;
        rowDepth = 1;
      } else if (envelope === "value" && depth === 1) {
        expectKey = true;
      } else if (envelope === "value" && depth === 2 && keyIsValue && b === OPEN_ARRAY) {
        if (open >= 0) return null; // a second "value": let JSON.parse decide
        open = i;
        rowDepth = 2;
      }
      keyIsValue = false;
      continue;
    }
    if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
      if (depth < 0) return null;
      if (depth === rowDepth) {
        ends.push(i + 1);
        after = true;
      }
      if (depth === 0) {
        return close >= 0 && rest(bytes, i + 1)
          ? { envelope, open, close, starts, ends, exact }
          : null;
      }
      continue;
    }
    if ((b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x2b || b === 0x2d) {
      if (++number >= 16) exact[starts.length - 1] = true; // a long number (see parseExactJson)
      continue;
    }
    if ((b === 0x65 || b === 0x45) && number > 0) { // an exponent
      exact[starts.length - 1] = true;
      continue;
    }
    number = 0;
    if (envelope === "value" && depth === 1 && !isSpace(b)) {
      if (b === COMMA) expectKey = true;
      if (b !== COLON) keyIsValue = false; // a scalar value, or the next member
    }
  }
  return null;
}

/**
 * A number literal right after `:`, `,` or `[` that `JSON.parse` may not keep exactly: 16 or more
 * digits before or after the point, or an exponent of 3 or more digits. (Inside a string it only
 * costs the slow path.)
 */
const INEXACT_NUMBER = /[:,[]\s*-?(?:\d{16}|\d*\.\d{16}|[\d.]+[eE][+-]?\d{3})/;

/**
 * `JSON.parse`, except that numbers are never changed: an integer beyond ±2^53 becomes a
 * `bigint` with its exact value, and a literal that is no finite double (`1e400`, `1e-400`)
 * becomes a string of the literal as given. Bodies without such literals take the plain
 * `JSON.parse` (works the same in V8 and JavaScriptCore: no reviver `context.source`).
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
    return kept[0] === "i" ? BigInt(kept.slice(1)) : kept.slice(1);
  });
}

/**
 * How to keep a number literal: null when `Number()` holds it exactly (or it is not valid JSON:
 * `JSON.parse` reports that), `i<digits>` for a big integer, `t<literal>` for text.
 */
function exactLiteral(literal: string): string | null {
  if (/^-?(?:0|[1-9]\d*)$/.test(literal)) {
    return literal.length < 16 || Number.isSafeInteger(Number(literal)) ? null : `i${literal}`;
  }
  if (!/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(literal)) return null;
  const value = Number(literal);
  const mantissa = literal.replace(/[eE].*$/, "");
  if (!Number.isFinite(value) || (value === 0 && /[1-9]/.test(mantissa))) return `t${literal}`;
  return null;
}

/**
 * The server's own words from an error body: the ASP.NET `message` / `exceptionMessage`, else the
 * first ~300 characters of the body.
 */
export function errorExcerpt(text: string, redact: Redact = asIs): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const data = JSON.parse(trimmed) as Record<string, unknown>;
      const parts = [data.message, data.Message, data.exceptionMessage, data.ExceptionMessage]
        .filter((part): part is string => typeof part === "string" && part.trim() !== "");
      const unique = [...new Set(parts)];
      if (unique.length) return cut(unique.join(": "), 300, redact);
    } catch {
      // not JSON after all: fall through to the raw excerpt
    }
  }
  return cut(trimmed, 300, redact);
}

/** The JWT from an `/authorize` body: trimmed, surrounding quotes removed. */
export function parseToken(text: string): string {
  let token = text.trim();
  while (token.length >= 2 && token.startsWith('"') && token.endsWith('"')) {
    token = token.slice(1, -1).trim();
  }
  return token;
}
