/**
 * Private: reading Act! Web API response bodies (list envelopes, error objects, the JWT).
 *
 * @module
 */

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

/** Collapse whitespace and cut `text` to `max` characters (with an ellipsis). */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function describe(text: string, contentType: string | null): string {
  const type = contentType ? contentType : "no content type";
  const body = text.trim() === "" ? "an empty body" : `"${excerpt(text, 200)}"`;
  return `${type}: ${body}`;
}

function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkRows(rows: unknown[], text: string, contentType: string | null): void {
  const bad = rows.findIndex((row) => !isRow(row));
  if (bad !== -1) {
    const kind = rows[bad] === null
      ? "null"
      : Array.isArray(rows[bad])
      ? "array"
      : typeof rows[bad];
    throw new UnusableBodyError(
      `Cannot read list response: row ${bad} is ${kind}, not an object: got ${
        describe(text, contentType)
      }`,
    );
  }
}

/**
 * Parse a list body: `{"value": [...], "Count": n}` or a bare JSON array. Anything else throws
 * {@linkcode UnusableBodyError} naming what came back.
 */
export function parseListBody(text: string, contentType: string | null): ParsedList {
  const trimmed = text.trim();
  if (trimmed.startsWith("<") || /html|xml/i.test(contentType ?? "")) {
    throw new UnusableBodyError(
      `Cannot read list response: expected JSON, got ${describe(text, contentType)}`,
    );
  }
  let data: unknown;
  try {
    data = parseExactJson(trimmed);
  } catch (error) {
    throw new UnusableBodyError(
      `Cannot read list response: invalid or truncated JSON (${text.length} characters), got ${
        describe(text, contentType)
      }`,
      { cause: error },
    );
  }
  if (Array.isArray(data)) {
    checkRows(data, text, contentType);
    return { rows: data as Record<string, unknown>[], envelope: "array" };
  }
  if (isRow(data)) {
    if (!("value" in data)) {
      throw new UnusableBodyError(
        `Cannot read list response: expected a JSON array or an object with "value", got an object with keys ${
          JSON.stringify(Object.keys(data).slice(0, 10))
        }: ${describe(text, contentType)}`,
      );
    }
    if (!Array.isArray(data.value)) {
      throw new UnusableBodyError(
        `Cannot read list response: "value" is not an array: got ${describe(text, contentType)}`,
      );
    }
    checkRows(data.value, text, contentType);
    return { rows: data.value as Record<string, unknown>[], envelope: "value" };
  }
  throw new UnusableBodyError(
    `Cannot read list response: expected a JSON array or an object with "value", got ${
      describe(text, contentType)
    }`,
  );
}

/**
 * A number literal right after `:`, `,` or `[` that `JSON.parse` may not keep exactly: 16 or more
 * digits, or an exponent of 3 or more digits. (Inside a string it only costs the slow path.)
 */
const INEXACT_NUMBER = /[:,[]\s*-?(?:\d{16}|[\d.]+[eE][+-]?\d{3})/;

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
export function errorExcerpt(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const data = JSON.parse(trimmed) as Record<string, unknown>;
      const parts = [data.message, data.Message, data.exceptionMessage, data.ExceptionMessage]
        .filter((part): part is string => typeof part === "string" && part.trim() !== "");
      const unique = [...new Set(parts)];
      if (unique.length) return excerpt(unique.join(": "), 300);
    } catch {
      // not JSON after all: fall through to the raw excerpt
    }
  }
  return excerpt(trimmed, 300);
}

/** The JWT from an `/authorize` body: trimmed, surrounding quotes removed. */
export function parseToken(text: string): string {
  let token = text.trim();
  while (token.length >= 2 && token.startsWith('"') && token.endsWith('"')) {
    token = token.slice(1, -1).trim();
  }
  return token;
}
