/**
 * The field-privacy keys: `exclude_fields` (source paths never stored) and `hash_fields` (source
 * paths stored as HMAC-SHA-256 with `hash_key`), each an object of table → list of paths like
 * `customFields.user9` (nested keys joined with dots).
 *
 * @module
 */
import * as v from "valibot";
import { TABLE_NAMES, type TableName } from "../act/tables.ts";
import { closest } from "../core/closest.ts";

/** Per table, the source paths (dotted) a rule applies to. */
export type FieldLists = Partial<Record<TableName, string[]>>;

function parse(key: string, input: unknown): FieldLists | string {
  const example = `{"contacts": ["homePhone", "customFields.user9"]}`;
  let value = input;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return `'${key}' must be a JSON object like ${example}`;
    }
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return `'${key}' must be an object of table → list of fields like ${example}`;
  }
  const out: FieldLists = {};
  const errors: string[] = [];
  for (const [table, list] of Object.entries(value)) {
    if (!(TABLE_NAMES as readonly string[]).includes(table)) {
      const guess = closest(table, TABLE_NAMES);
      errors.push(
        `'${key}' has an unknown table ${JSON.stringify(table)}` +
          (guess ? `: did you mean "${guess}"?` : `: valid tables are ${TABLE_NAMES.join(", ")}`),
      );
      continue;
    }
    const paths = Array.isArray(list) ? list : [list];
    const bad = paths.find((p) => typeof p !== "string" || !p.trim() || /^\.|\.$|\.\./.test(p));
    if (bad !== undefined) {
      errors.push(
        `'${key}.${table}' must be a list of field paths like "homePhone" or ` +
          `"customFields.user9": current value is ${JSON.stringify(bad)}`,
      );
      continue;
    }
    if (paths.length > 0) out[table as TableName] = paths.map((p) => (p as string).trim());
  }
  return errors.length ? errors.join("\n  - ") : out;
}

function fieldsKey(key: string) {
  return v.optional(
    v.pipe(
      v.unknown(),
      v.check(
        (input) => typeof parse(key, input) !== "string",
        (issue) => parse(key, issue.input) as string,
      ),
      v.transform((input) => parse(key, input) as FieldLists),
    ),
    () => ({}),
  );
}

/** `exclude_fields`: per table, the source paths never stored. */
export const excludeFieldsKey = fieldsKey("exclude_fields");
/** `hash_fields`: per table, the source paths stored as HMAC-SHA-256 with `hash_key`. */
export const hashFieldsKey = fieldsKey("hash_fields");

/** A path in both lists of a table, or `hash_fields` without `hash_key`: the problems. */
export function fieldRuleProblems(
  config: { exclude_fields: FieldLists; hash_fields: FieldLists; hash_key?: string },
): string[] {
  const problems: string[] = [];
  const hashed = Object.values(config.hash_fields).some((list) => (list?.length ?? 0) > 0);
  if (hashed && !config.hash_key) {
    problems.push(
      `'hash_key' is missing: 'hash_fields' needs a secret key; set ACT_HASH_KEY (at least 16 ` +
        `characters, the same on every machine that writes the same destination)`,
    );
  }
  if (config.hash_key && config.hash_key.length < 16) {
    problems.push(`'hash_key' is too short: use at least 16 characters`);
  }
  for (const [table, list] of Object.entries(config.hash_fields)) {
    const both = list?.find((p) => config.exclude_fields[table as TableName]?.includes(p));
    if (both) {
      problems.push(
        `'${table}' field ${JSON.stringify(both)} is in both 'exclude_fields' and 'hash_fields': ` +
          `keep it in one`,
      );
    }
  }
  return problems;
}
