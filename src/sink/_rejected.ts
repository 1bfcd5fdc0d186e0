/**
 * Private: the SQL of `_act_rejected`, the table of records that could not be stored, written
 * once for both dialects (each sink only runs it).
 *
 * `_act_rejected` holds one row per record: `table_name`, `record_key` (the record's id, or
 * `sha256:<hex>` of its text when it has none; the primary key is the two), `id` (NULL when the
 * record has none), `parent_id` (a line item's opportunity, else NULL), `reason`, `raw` (the record's JSON text as it came, NUL and unpaired
 * surrogates as U+FFFD like every stored text), `first_seen`, `last_seen`.
 *
 * @module
 */
import { type RejectedEntry, type RejectedRecord, storableText } from "./sink.ts";
import type { Dialect } from "./_sql.ts";

/** The table of records that could not be stored. */
export const REJECTED_TABLE = "_act_rejected";

/** The statements of `_act_rejected` in one dialect; `table` is the quoted table name. */
export interface RejectedSql {
  create: string;
  /** Parameters: table_name, record_key, id, parent_id, reason, raw, seen. */
  upsert: string;
  /** Parameters: table_name, record_key. */
  remove: string;
  /** Every row, oldest first. */
  list: string;
}

/** The statements of `_act_rejected` for `dialect`. */
export function rejectedSql(dialect: Dialect, table: string): RejectedSql {
  const text = dialect === "sqlite" ? "TEXT" : "text";
  const time = dialect === "sqlite" ? "TEXT" : "timestamptz";
  const p = (i: number) => dialect === "sqlite" ? `?${i}` : `$${i}`;
  const columns = "table_name, record_key, id, parent_id, reason, raw, first_seen, last_seen";
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (table_name ${text} NOT NULL, ` +
      `record_key ${text} NOT NULL, id ${text}, parent_id ${text}, reason ${text} NOT NULL, ` +
      `raw ${text} NOT NULL, ` +
      `first_seen ${time} NOT NULL, last_seen ${time} NOT NULL, ` +
      `PRIMARY KEY (table_name, record_key))`,
    upsert: `INSERT INTO ${table} (${columns}) ` +
      `VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(7)}) ` +
      `ON CONFLICT (table_name, record_key) DO UPDATE SET id = excluded.id, ` +
      `parent_id = excluded.parent_id, ` +
      `reason = excluded.reason, raw = excluded.raw, last_seen = excluded.last_seen`,
    remove: `DELETE FROM ${table} WHERE table_name = ${p(1)} AND record_key = ${p(2)}`,
    list: `SELECT ${columns} FROM ${table} ORDER BY table_name, first_seen, record_key`,
  };
}

/** A stored row as {@linkcode RejectedEntry} (times as UTC ISO-8601). */
export function rejectedEntry(row: Record<string, unknown>): RejectedEntry {
  const time = (value: unknown) => value instanceof Date ? value.toISOString() : String(value);
  return {
    table: String(row.table_name),
    key: String(row.record_key),
    id: row.id === null || row.id === undefined ? null : String(row.id),
    parent: row.parent_id === null || row.parent_id === undefined ? null : String(row.parent_id),
    reason: String(row.reason),
    raw: String(row.raw),
    firstSeen: time(row.first_seen),
    lastSeen: time(row.last_seen),
  };
}

/** The upsert's parameters for one record. */
export function rejectedParams(
  table: string,
  record: RejectedRecord,
  at: string,
): (string | null)[] {
  return [table, record.key, record.id, record.parent, record.reason, record.raw, at];
}

/** A record with its reason and text as both sinks can store them ({@linkcode storableText}). */
export function storable(record: RejectedRecord): RejectedRecord {
  return { ...record, reason: storableText(record.reason), raw: storableText(record.raw) };
}
