/**
 * The byte splitter: a list body cut into its rows without decoding it whole, each row parsed
 * when asked for ({@linkcode LazyRows}), and each parsed row's JSON text found again
 * ({@linkcode rawText}) for a record that cannot be stored.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import {
  asIs,
  cut,
  type Redact,
  topLevelId,
  UnparsedRow,
  UnusableRowError,
} from "./body_errors.ts";
import { parseExactJson } from "./exact_json.ts";

const UTF8 = new TextDecoder();
/** For text after the body's first byte: a U+FEFF there is a character, not a BOM to drop. */
const UTF8_KEEP_BOM = new TextDecoder("utf-8", { ignoreBOM: true });

/** Where each row parsed by {@linkcode LazyRows} came from (held only as long as the row). */
const RAW = new WeakMap<object, { rows: LazyRows; i: number }>();

/** The JSON text a row was parsed from, when it came from a split body; else undefined. */
export function rawText(row: object): string | undefined {
  const from = RAW.get(row);
  return from?.rows.raw(from.i);
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
    const row = this.entry(i);
    if (row === null || row instanceof UnparsedRow) {
      const text = this.raw(i);
      throw new UnusableRowError(
        `Cannot read list response: row ${i} is not valid JSON: got "${
          cut(text, 200, this.#redact)
        }"`,
      );
    }
    return row;
  }

  /**
   * Row `i`, parsed now; an {@linkcode UnparsedRow} when it is not a JSON object but shows its
   * id; null when it is not an object and shows no id.
   */
  entry(i: number): Record<string, unknown> | UnparsedRow | null {
    const text = this.raw(i);
    let row: unknown;
    try {
      row = this.#split.exact[i] ? parseExactJson(text) : JSON.parse(text);
    } catch (error) {
      const id = topLevelId(text);
      if (id === undefined) return null;
      return new UnparsedRow(id, text, `it is not valid JSON (${errorMessage(error)})`);
    }
    if (!isRow(row)) return null; // the splitter passes objects only
    RAW.set(row, { rows: this, i });
    return row;
  }

  /** Row `i`'s JSON text as received. */
  raw(i: number): string {
    const split = this.#split;
    return UTF8.decode(this.#bytes.subarray(split.starts[i], split.ends[i]));
  }

  /**
   * Every row, an {@linkcode UnparsedRow} in place of each that is not a JSON object; null for a
   * broken response: a row that is not JSON and shows no id, or two or more rows, none of them
   * an object.
   */
  entries(): (Record<string, unknown> | UnparsedRow)[] | null {
    const rows = new Array<Record<string, unknown> | UnparsedRow>(this.length);
    let unparsed = 0;
    for (let i = 0; i < this.length; i++) {
      const row = this.entry(i);
      if (row === null) return null;
      rows[i] = row;
      if (row instanceof UnparsedRow) unparsed++;
    }
    return unparsed > 0 && unparsed === this.length && this.length >= 2 ? null : rows;
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
): { rows: LazyRows; envelope: "value" | "array" } | null {
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
