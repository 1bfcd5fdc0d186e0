/**
 * Errors about Act! Web API response bodies, and the excerpts of a body that messages quote.
 *
 * @module
 */
import { excerpt } from "../core/secrets.ts";

export { excerpt };

/**
 * What the functions here apply to a body before a piece of it goes into a message: the
 * client's redaction, so that the cut (after it) keeps no piece of a secret.
 */
export type Redact = (text: string) => string;

/** The redaction of a text already redacted (or holding no secret). */
export const asIs: Redact = (text) => text;

/** `text` redacted, then with its whitespace collapsed and cut to `max` characters. */
export function cut(text: string, max: number, redact: Redact): string {
  return excerpt(redact(text), max);
}

/** Thrown when a 2xx list body is not a JSON array or `{"value": [...]}`; retried, then fatal. */
export class UnusableBodyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnusableBodyError";
  }
}

/**
 * Thrown by a lazily read page (`LazyRows`) for a row that is not a JSON object, after the call
 * that fetched the page has returned (so no retry covered it): the caller asks for the page again
 * whole, where such a row becomes an {@linkcode UnparsedRow}.
 */
export class UnusableRowError extends UnusableBodyError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnusableRowError";
  }
}

/**
 * A row of a well-formed list body that is not a JSON object, in place of the record in the
 * page's rows: its raw text, why it could not be read, and its id, which its text must show
 * (`"id": "…"` or `"id": 123` at its top level). A row without a readable id cannot be told from
 * a broken response, and neither can a page whose every row (two or more) is unreadable: those
 * are a broken response ({@linkcode UnusableBodyError}).
 */
export class UnparsedRow {
  /** The id the text names. */
  readonly id: string;
  /** The row's JSON text as received. */
  readonly raw: string;
  /** Why it is not a record. */
  readonly reason: string;
  /** For a row read per parent (a line item): the parent's id. */
  parent?: string;

  constructor(id: string, raw: string, reason: string) {
    this.id = id;
    this.raw = raw;
    this.reason = reason;
  }
}

/**
 * The `id` of an object's text that may not be valid JSON: a string or integer after the key
 * `"id"` at its top level (keys of nested objects and string contents skipped); else undefined.
 */
export function topLevelId(text: string): string | undefined {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === '"') {
      const start = i;
      for (i++; i < n && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth !== 1 || text.slice(start, i + 1) !== '"id"') continue;
      const value = /^\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+))\s*[,}]/.exec(text.slice(i + 1));
      if (value === null) return undefined;
      if (value[2] !== undefined) return value[2];
      try {
        return JSON.parse(`"${value[1]}"`) as string;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** A body for a message: its content type and an excerpt, redacted. */
export function describe(text: string, contentType: string | null, redact: Redact): string {
  const type = contentType ? contentType : "no content type";
  const body = text.trim() === "" ? "an empty body" : `"${cut(text, 200, redact)}"`;
  return `${type}: ${body}`;
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
