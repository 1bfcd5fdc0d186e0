/**
 * Reading Act! Web API response bodies: list envelopes (bare arrays or `{"value": [...]}`) and
 * the JWT.
 *
 * @module
 */
import { asIs, describe, type Redact, UnusableBodyError } from "./body_errors.ts";
import { parseExactJson } from "./exact_json.ts";
import { isRow, splitListBytes } from "./split_rows.ts";

export { UnparsedRow, UnusableBodyError, UnusableRowError } from "./body_errors.ts";

/** Rows of one list response and the envelope they came in. */
export interface ParsedList {
  /** The records; an {@linkcode UnparsedRow} stands for a row that is not a JSON object. */
  rows: Record<string, unknown>[];
  envelope: "value" | "array";
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
  // Only JSON's own whitespace may surround the body, and a byte order mark lead it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, "");
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
/** Keeps a leading U+FEFF, for {@linkcode parseListBody} to drop exactly one. */
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
 * alone; a row that is not a JSON object becomes an {@linkcode UnparsedRow}. Anything else (an
 * error, an odd envelope, rows none of which is an object) takes the whole-text path, which gives
 * the same rows and the same error messages. `split` is the body's
 * {@linkcode splitListBytes}, when the caller has it already.
 */
export function parseListBytes(
  bytes: Uint8Array,
  contentType: string | null,
  split: ReturnType<typeof splitListBytes> = splitListBytes(bytes, contentType),
  redact: Redact = asIs,
): ParsedList {
  const rows = split?.rows.entries();
  if (split && rows) {
    return { rows: rows as Record<string, unknown>[], envelope: split.envelope };
  }
  return parseListBody(UTF8_KEEP_BOM.decode(bytes), contentType, redact);
}

/** The JWT from an `/authorize` body: trimmed, surrounding quotes removed. */
export function parseToken(text: string): string {
  let token = text.trim();
  while (token.length >= 2 && token.startsWith('"') && token.endsWith('"')) {
    token = token.slice(1, -1).trim();
  }
  return token;
}
