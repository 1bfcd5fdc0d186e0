/**
 * The one way the status page and its charts build HTML: `html` from hono/html, so that every
 * interpolated string is escaped as markup, and before that as the logs escape text
 * ({@linkcode escapeControl}: a line break as `\n`, a right-to-left override as `\u202e`), so
 * that text from the server or the state file (a table name, an error) can neither break the
 * markup nor reorder the text shown around it. Fragments built here nest unchanged.
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { escapeControl } from "../core/secrets.ts";

/** `html` from hono/html over values whose strings are escaped as the logs do first. */
export function h(strings: TemplateStringsArray, ...values: unknown[]): HtmlEscapedString {
  // Synchronous: nothing interpolated here is a promise.
  return html(strings, ...values.map(clean)) as HtmlEscapedString;
}

/** Fragments joined by a (trusted) separator. */
export function join(fragments: HtmlEscapedString[], separator: string): HtmlEscapedString {
  return raw(fragments.join(separator));
}

/** A value with its plain strings (not fragments, which are String objects) escaped. */
function clean(value: unknown): unknown {
  if (typeof value === "string") return escapeControl(value);
  if (Array.isArray(value)) return value.map(clean);
  return value;
}
