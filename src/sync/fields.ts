/**
 * `exclude_fields` and `hash_fields` applied to the records of a table before they are
 * flattened (src/sync/relations.ts `flattenForSink`, the one place every page passes on its way
 * to a sink): an excluded path is removed from the record, so no table, link table or column
 * ever holds it, not even on a first sync; a hashed path's value becomes its HMAC-SHA-256 (hex)
 * under `hash_key`, the same for the same value in every run and every sink, so reports can
 * still count and join on it. `null` stays `null`.
 *
 * Paths are source paths with dots (`customFields.user9`); a path that matches no field of the
 * records read is reported by {@linkcode unmatchedFields} with the closest real field.
 *
 * @module
 */
import { createHmac } from "node:crypto";
import { closest } from "../core/closest.ts";

/** The rules of one table. */
export interface FieldRules {
  /** Dotted source paths never stored. */
  exclude: readonly string[];
  /** Dotted source paths stored as HMAC-SHA-256 hex. */
  hash: readonly string[];
  /** The HMAC key (`hash_key`); needed when `hash` is not empty. */
  key: string;
}

/** The value's HMAC-SHA-256 under `key`, as 64 hex digits (text as is, others as JSON). */
export function hashValue(value: unknown, key: string): string {
  const text = typeof value === "string"
    ? value
    : JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);
  return createHmac("sha256", key).update(text, "utf8").digest("hex");
}

/** A value that already is a hash: 64 lower-case hex digits. */
const HASHED = /^[0-9a-f]{64}$/;

/**
 * `record` with `rules` applied; the record itself is not changed (copied along each path), and
 * returned as it is when no path matches. `keepHashed`: a value that already is 64 hex digits is
 * left (stored values scrubbed twice).
 */
export function applyFieldRules(
  record: Record<string, unknown>,
  rules: FieldRules,
  options: { keepHashed?: boolean } = {},
): Record<string, unknown> {
  let out = record;
  for (const path of rules.exclude) out = rewrite(out, path.split("."), () => undefined);
  for (const path of rules.hash) {
    out = rewrite(out, path.split("."), (value) => {
      if (value === null || value === undefined) return value;
      if (options.keepHashed && typeof value === "string" && HASHED.test(value)) return value;
      return hashValue(value, rules.key);
    });
  }
  return out;
}

/** `object` with the value at `keys` replaced by `change(value)` (undefined: removed). */
function rewrite(
  object: Record<string, unknown>,
  keys: string[],
  change: (value: unknown) => unknown,
): Record<string, unknown> {
  const [key, ...rest] = keys;
  if (!Object.hasOwn(object, key)) return object;
  const copy = { ...object };
  if (rest.length === 0) {
    const value = change(object[key]);
    if (value === undefined) delete copy[key];
    else copy[key] = value;
    return copy;
  }
  const inner = object[key];
  if (!inner || typeof inner !== "object" || Array.isArray(inner)) return object;
  copy[key] = rewrite(inner as Record<string, unknown>, rest, change);
  return copy;
}

/** Every dotted path of a record's fields (nested objects included), at most `limit`. */
function pathsOf(record: Record<string, unknown>, prefix = "", out = new Set<string>()) {
  for (const [key, value] of Object.entries(record)) {
    if (out.size > 5000) break;
    const path = prefix ? `${prefix}.${key}` : key;
    out.add(path);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      pathsOf(value as Record<string, unknown>, path, out);
    }
  }
  return out;
}

/**
 * The rule paths that match no field of `records`, each with the closest real field (or none);
 * empty when there are no records to compare with.
 */
export function unmatchedFields(
  records: readonly Record<string, unknown>[],
  rules: FieldRules,
): { path: string; closest?: string }[] {
  if (records.length === 0) return [];
  const seen = new Set<string>();
  for (const record of records.slice(0, 100)) pathsOf(record, "", seen);
  const out: { path: string; closest?: string }[] = [];
  for (const path of [...rules.exclude, ...rules.hash]) {
    if (seen.has(path)) continue;
    const guess = closest(path, [...seen]);
    out.push({ path, ...(guess ? { closest: guess } : {}) });
  }
  return out;
}

/**
 * The WARNING for each path of `rules` that matches no field of `records`:
 * `'exclude_fields' of table contacts names "homePhon", which no record has: did you mean "homePhone"?`
 */
export function fieldWarnings(
  records: readonly Record<string, unknown>[],
  rules: FieldRules,
  table: string,
): string[] {
  return unmatchedFields(records, rules).map((miss) =>
    `'${rules.exclude.includes(miss.path) ? "exclude_fields" : "hash_fields"}' of table ${table} ` +
    `names "${miss.path}", which no record has` +
    (miss.closest ? `: did you mean "${miss.closest}"?` : "")
  );
}
