/**
 * The SQLite destination, through `node:sqlite` (Deno 2, Bun and their compiled binaries).
 * WAL mode, one transaction per page, upsert by `id`, columns added and widened as data demands.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { DatabaseSync } from "node:sqlite";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../core/log.ts";
import { SqliteRowWriter } from "./_changes.ts";
import { cursorValues } from "./_history.ts";
import { SqliteHistory } from "./_sqlite_history.ts";
import { ColumnMap, fieldColumn } from "./_columns.ts";
import { quoteIdent } from "./_sql.ts";
import { columnEntries, recordColumns, SqliteShapes } from "./_sqlite_shape.ts";
import { refMigrations, textRefs } from "./_views.ts";
import { createLabeledViewSql, labeledName } from "./_labels.ts";
import {
  REJECTED_TABLE,
  rejectedEntry,
  rejectedParams,
  type RejectedSql,
  rejectedSql,
  storable,
} from "./_rejected.ts";
import {
  type ColumnType,
  type FlatPage,
  type FlatValue,
  HASHED,
  META_COLUMNS,
  noChanges,
  pagesOf,
  PageSourceError,
  type RejectedEntry,
  type RejectedRecord,
  scrubColumns,
  type ScrubPaths,
  type ScrubResult,
  type Sink,
  type TableShape,
  widenType,
  type WriteResult,
} from "./sink.ts";

const DECLARED: Record<ColumnType, string> = {
  integer: "INTEGER",
  real: "REAL",
  boolean: "BOOLEAN",
  datetime: "DATETIME",
  json: "JSON",
  text: "TEXT",
};
const META = new Set(["id", ...META_COLUMNS]);

function typeOfDeclared(declared: string): ColumnType {
  switch (declared.toUpperCase()) {
    case "INTEGER":
      return "integer";
    case "REAL":
      return "real";
    case "BOOLEAN":
      return "boolean";
    case "DATETIME":
      return "datetime";
    case "JSON":
      return "json";
    default:
      return "text";
  }
}

interface TablePlan {
  /** Data columns (not id or metadata) in table order, with their types. */
  columns: Map<string, ColumnType>;
  /** Source path → column (see `_columns.ts`). */
  map: ColumnMap;
  /** Writes and counts one row (`_changes.ts`); null until prepared for the current columns. */
  upsert: SqliteRowWriter | null;
}

/** Options for {@linkcode openSqliteSink}. */
export interface SqliteSinkOptions {
  /** How long to wait for another program's write lock, in ms. @default {5000} */
  busyTimeoutMs?: number;
  /** Where disambiguated column names are logged (WARNING). */
  logger?: Logger;
  /** Tables that keep every version of their rows in `<table>_history`. @default {[]} */
  history?: readonly string[];
}

/** Open (creating file and folders as needed) a SQLite database as a {@linkcode Sink}. */
export function openSqliteSink(path: string, options: SqliteSinkOptions = {}): Promise<Sink> {
  return settle(() => {
    try {
      if (path !== ":memory:") createPrivate(path);
      const db = new DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      // 16 MiB: enough for random id inserts at 1M rows (the OS caches the rest of the file);
      // 32 MiB was no faster and held 16 MiB more (scripts/bench.ts).
      db.exec("PRAGMA cache_size = -16384");
      return new SqliteSink(db, path, options.logger, options.history ?? []);
    } catch (error) {
      const detail = errorMessage(error);
      const hint = /disk I\/O|full|readonly|unable to open/i.test(detail)
        ? " (is the disk full, or the folder not writable?)"
        : "";
      throw new Error(`Cannot open SQLite database "${path}": ${detail}${hint}`, {
        cause: error,
      });
    }
  });
}

/**
 * Create the database file (mode 0600, folders 0700) before SQLite does, which would create it
 * world-readable; SQLite gives its `-wal` and `-shm` files the database file's mode. An existing
 * file is left as it is.
 */
function createPrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (error) {
    if ((error as { code?: string }).code !== "EEXIST") throw error;
  }
}

/** Parse a `sqlite:PATH` destination (or a bare path) to the file path. */
export function sqlitePath(destination: string): string {
  return destination.startsWith("sqlite:") ? destination.slice("sqlite:".length) : destination;
}

class SqliteSink implements Sink {
  readonly description: string;
  #db: DatabaseSync;
  #path: string;
  #plans = new Map<string, TablePlan>();
  #logger: Logger | undefined;
  #shapes: SqliteShapes;
  #history: SqliteHistory;

  constructor(
    db: DatabaseSync,
    path: string,
    logger: Logger | undefined,
    history: readonly string[],
  ) {
    this.#db = db;
    this.#shapes = new SqliteShapes(db);
    this.#history = new SqliteHistory(db, history, DECLARED);
    this.#path = path;
    this.#logger = logger;
    this.description = `sqlite:${path}`;
  }

  write(
    table: string,
    page: FlatPage | Iterable<FlatPage>,
    syncedAt: string,
  ): Promise<WriteResult> {
    return settle(() => this.#write(table, pagesOf(page), syncedAt));
  }

  #write(table: string, pages: Iterable<FlatPage>, syncedAt: string): WriteResult {
    const db = this.#db;
    const result: WriteResult = {
      written: 0,
      changes: noChanges(),
      newColumns: [],
      widenedColumns: [],
    };
    try {
      db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      throw this.#error("begin a transaction", error);
    }
    const warnings: string[] = [];
    let offered = 0; // rows handed to this write so far, for the message
    try {
      for (const page of pages) {
        offered += page.rows.length;
        this.#writePage(table, page, syncedAt, result, warnings);
      }
      db.exec("COMMIT");
      for (const warning of warnings) this.#logger?.warning(warning);
      return result;
    } catch (error) {
      try {
        db.exec("ROLLBACK");
      } catch { /* the transaction may already be gone */ }
      this.#plans.delete(table); // schema may have been rolled back too
      this.#shapes.forget();
      this.#history.forget();
      if (error instanceof PageSourceError) throw error.cause;
      throw this.#error(`write ${offered} rows to table "${table}"`, error);
    }
  }

  /** One page (or chunk) inside `#write`'s transaction, counted into `result`. */
  #writePage(
    table: string,
    page: FlatPage,
    syncedAt: string,
    result: WriteResult,
    warnings: string[],
  ): void {
    const plan = this.#plan(table, true)!;
    textRefs(page);
    warnings.push(...this.#assign(table, plan, page));
    const before = result.newColumns.length + result.widenedColumns.length;
    this.#evolve(table, plan, page, result);
    const history = this.#history.has(table);
    if (history) this.#history.prepare(table, plan, syncedAt);
    const versioned: string[] = []; // ids of rows inserted or updated, for the history
    const names = [...plan.columns.keys()];
    const types = names.map((n) => plan.columns.get(n)!);
    const upsert = plan.upsert ??= new SqliteRowWriter(
      this.#db,
      quoteIdent(table),
      names,
      quoteIdent,
    );
    const indexOf = new Map(names.map((n, i) => [n, i]));
    // Each typed key of the page and the value slot of its column (keys with only nulls in
    // this page have no type and stay NULL).
    const keys: string[] = [];
    const slots: number[] = [];
    for (const key of page.types.keys()) {
      const slot = indexOf.get(plan.map.get(key)!);
      if (slot !== undefined) {
        keys.push(key);
        slots.push(slot + 1);
      }
    }
    const values: (string | number | bigint | null)[] = new Array(names.length + 2);
    for (const row of page.rows) {
      values.fill(null);
      values[0] = row.id;
      for (let k = 0; k < keys.length; k++) {
        const value = row[keys[k]];
        if (value !== undefined && value !== null) {
          values[slots[k]] = toSqlite(value, types[slots[k] - 1]);
        }
      }
      values[names.length + 1] = syncedAt;
      const unchanged = result.changes.unchanged;
      upsert.write(values, result.changes); // and counts it new / updated / unchanged
      if (history && result.changes.unchanged === unchanged) versioned.push(row.id);
      result.written++;
    }
    if (history) this.#history.record(table, cursorValues(page, versioned), syncedAt);
    const changed = result.newColumns.length + result.widenedColumns.length > before;
    this.#shapes.apply(table, plan, page, changed, syncedAt);
  }

  count(table: string): Promise<number> {
    return settle(() => {
      if (!this.#plan(table, false)) return 0;
      const row = this.#db.prepare(
        `SELECT count(*) AS n FROM ${quoteIdent(table)} WHERE _act_deleted = 0`,
      ).get() as { n: number };
      return Number(row.n);
    });
  }

  ids(table: string, where?: { field: string; value: string }): Promise<string[]> {
    return settle(() => {
      const plan = this.#plan(table, false);
      if (!plan) return [];
      const column = where ? fieldColumn(table, plan.map, where.field) : null;
      const rows = (column !== null
        ? this.#db.prepare(
          `SELECT id FROM ${quoteIdent(table)} WHERE _act_deleted = 0 AND ${
            quoteIdent(column)
          } = ?`,
        ).all(where!.value)
        : this.#db.prepare(
          `SELECT id FROM ${quoteIdent(table)} WHERE _act_deleted = 0`,
        ).all()) as { id: string }[];
      return rows.map((r) => r.id);
    });
  }

  idsAfter(table: string, after: string | null, limit: number): Promise<string[]> {
    return settle(() => {
      if (!this.#plan(table, false)) return [];
      const rows = (after === null
        ? this.#db.prepare(
          `SELECT id FROM ${quoteIdent(table)} WHERE _act_deleted = 0 ORDER BY id LIMIT ?`,
        ).all(limit)
        : this.#db.prepare(
          `SELECT id FROM ${quoteIdent(table)} WHERE _act_deleted = 0 AND id > ? ORDER BY id ` +
            `LIMIT ?`,
        ).all(after, limit)) as { id: string }[];
      return rows.map((r) => r.id);
    });
  }

  prepare(table: string, shape: TableShape, at: string): Promise<void> {
    return settle(() => {
      const plan = this.#plan(table, false);
      if (!plan) return;
      const types = refMigrations(plan, shape);
      this.#write(table, [{ rows: [], types, shape }], at);
    });
  }

  markDeleted(table: string, ids: readonly string[], at: string): Promise<number> {
    return settle(() => this.#markDeleted(table, ids, at));
  }

  #markDeleted(table: string, ids: readonly string[], at: string): number {
    const plan = this.#plan(table, false);
    if (!plan || ids.length === 0) return 0;
    const history = this.#history.has(table);
    const statement = this.#db.prepare(
      `UPDATE ${
        quoteIdent(table)
      } SET _act_deleted = 1, _act_deleted_at = ? WHERE id = ? AND _act_deleted = 0`,
    );
    let changed = 0;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      if (history) this.#history.prepare(table, plan, at);
      const gone = new Map<string, null>(); // the history's delete versions
      for (const id of ids) {
        const n = Number(statement.run(at, id).changes);
        changed += n;
        if (history && n > 0) gone.set(id, null);
      }
      if (history) this.#history.record(table, gone, at);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      this.#history.forget();
      throw this.#error(`mark rows deleted in "${table}"`, error);
    }
    return changed;
  }

  scrub(table: string, paths: ScrubPaths, hash: (text: string) => string): Promise<ScrubResult> {
    return settle(() => {
      const plan = this.#plan(table, false);
      const out: ScrubResult = {};
      if (!plan) return out;
      const name = quoteIdent(table);
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const { column, action } of scrubColumns(columnEntries(this.#db, table), paths)) {
          const c = quoteIdent(column);
          if (action === "clear" || plan.columns.get(column) !== "text") {
            const run = this.#db.prepare(`UPDATE ${name} SET ${c} = NULL WHERE ${c} IS NOT NULL`)
              .run();
            out[column] = { action: "cleared", rows: Number(run.changes) };
            continue;
          }
          const update = this.#db.prepare(`UPDATE ${name} SET ${c} = ? WHERE id = ?`);
          let rows = 0;
          for (
            const row of this.#db.prepare(
              `SELECT id, ${c} AS v FROM ${name} WHERE ${c} IS NOT NULL`,
            ).all()
          ) {
            if (HASHED.test(String(row.v))) continue;
            rows += Number(update.run(hash(String(row.v)), row.id as string).changes);
          }
          out[column] = { action: "hashed", rows };
        }
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw this.#error(`scrub "${table}"`, error);
      }
      // Old values also live in free pages: rebuild the file without them, and empty the WAL.
      this.#db.exec("VACUUM");
      this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return out;
    });
  }

  columnsOf(table: string): Promise<Map<string, string>> {
    return settle(() => this.#plan(table, false)?.map.paths() ?? new Map());
  }

  liveRows(table: string, columns: readonly string[]): Promise<Record<string, unknown>[]> {
    return settle(() => {
      const plan = this.#plan(table, false);
      if (!plan) return [];
      // A column no row has filled yet does not exist: its values read as undefined.
      const known = columns.filter((c) => c === "id" || plan.columns.has(c));
      return this.#db.prepare(
        `SELECT ${["id", ...known].map(quoteIdent).join(", ")} FROM ${quoteIdent(table)} ` +
          `WHERE _act_deleted = 0`,
      ).all() as Record<string, unknown>[];
    });
  }

  labelView(table: string, labels: ReadonlyMap<string, string>): Promise<boolean> {
    return settle(() => {
      const plan = this.#plan(table, false);
      if (!plan) return false;
      const sql = createLabeledViewSql("sqlite", table, plan.columns, labels);
      const view = labeledName(table);
      const now = this.#db.prepare(
        `SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?`,
      ).get(view) as { sql: string } | undefined;
      if (now?.sql === sql) return false;
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#shapes.minutes(table, plan); // the view reads them
        this.#db.exec(`DROP VIEW IF EXISTS ${quoteIdent(view)}`);
        this.#db.exec(sql);
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw this.#error(`create view "${view}"`, error);
      }
      return true;
    });
  }

  reject(table: string, records: readonly RejectedRecord[], at: string): Promise<void> {
    return settle(() => {
      if (records.length === 0) return;
      const sql = this.#rejectedSql();
      this.#db.exec(sql.create);
      const upsert = this.#db.prepare(sql.upsert);
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const record of records) {
          upsert.run(...rejectedParams(table, storable(record), at));
        }
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw this.#error(`keep rejected records of "${table}"`, error);
      }
    });
  }

  unreject(table: string, keys: readonly string[]): Promise<number> {
    return settle(() => {
      if (keys.length === 0 || !this.#hasRejected()) return 0;
      const remove = this.#db.prepare(this.#rejectedSql().remove);
      let removed = 0;
      for (const key of keys) removed += Number(remove.run(table, key).changes);
      return removed;
    });
  }

  rejected(): Promise<RejectedEntry[]> {
    return settle(() => {
      if (!this.#hasRejected()) return [];
      const rows = this.#db.prepare(this.#rejectedSql().list).all();
      return rows.map((row) => rejectedEntry(row as Record<string, unknown>));
    });
  }

  #rejectedSql(): RejectedSql {
    return rejectedSql("sqlite", quoteIdent(REJECTED_TABLE));
  }

  #hasRejected(): boolean {
    return this.#db.prepare(
      "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?",
    ).get(REJECTED_TABLE) !== undefined;
  }

  close(): Promise<void> {
    this.#plans.clear();
    this.#db.close();
    return Promise.resolve();
  }

  /** The table's column plan, creating the table when `create` is set. */
  #plan(table: string, create: boolean): TablePlan | undefined {
    let plan = this.#plans.get(table);
    if (plan) return plan;
    const info = this.#db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as {
      name: string;
      type: string;
    }[];
    if (info.length === 0) {
      if (!create) return undefined;
      this.#db.exec(
        `CREATE TABLE ${quoteIdent(table)} (id TEXT PRIMARY KEY NOT NULL, ` +
          `_act_synced TEXT, _act_deleted INTEGER NOT NULL DEFAULT 0, _act_deleted_at TEXT)`,
      );
    }
    const columns = new Map<string, ColumnType>();
    for (const { name, type } of info) {
      if (META.has(name)) continue;
      columns.set(name, typeOfDeclared(type));
    }
    plan = {
      columns,
      map: new ColumnMap(table, columnEntries(this.#db, table), columns.keys()),
      upsert: null,
    };
    this.#plans.set(table, plan);
    return plan;
  }

  /** Give the page's new source paths their columns and record them; returns warnings. */
  #assign(table: string, plan: TablePlan, page: FlatPage): string[] {
    if (plan.map.covers(page.types.keys())) return [];
    const { entries, warnings } = plan.map.assign(page.types.keys());
    recordColumns(this.#db, table, entries);
    return warnings;
  }

  /** Add missing columns and widen columns whose type no longer fits the page. */
  #evolve(table: string, plan: TablePlan, page: FlatPage, result: WriteResult): void {
    const widen = new Map<string, ColumnType>();
    for (const [path, type] of page.types) {
      const column = plan.map.get(path)!;
      const current = widen.get(column) ?? plan.columns.get(column);
      if (current === undefined) {
        this.#db.exec(
          `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${quoteIdent(column)} ${DECLARED[type]}`,
        );
        plan.columns.set(column, type);
        plan.upsert = null;
        result.newColumns.push(column);
        continue;
      }
      const wider = widenType(current, type);
      if (wider !== current) widen.set(column, wider);
    }
    if (widen.size === 0) return;
    const before = new Map(plan.columns);
    for (const [column, type] of widen) {
      plan.columns.set(column, type);
      result.widenedColumns.push(column);
    }
    this.#rebuild(table, plan, before);
  }

  /** SQLite cannot change a column's type: rebuild the table with the new types, same data. */
  #rebuild(table: string, plan: TablePlan, before: Map<string, ColumnType>): void {
    const temp = `${table}__act_sync_rebuild`;
    const columns = [...plan.columns].map(([n, t]) => `${quoteIdent(n)} ${DECLARED[t]}`);
    this.#db.exec(
      `CREATE TABLE ${quoteIdent(temp)} (id TEXT PRIMARY KEY NOT NULL, ` +
        `_act_synced TEXT, _act_deleted INTEGER NOT NULL DEFAULT 0, _act_deleted_at TEXT` +
        columns.map((c) => `, ${c}`).join("") + ")",
    );
    const names = ["id", "_act_synced", "_act_deleted", "_act_deleted_at", ...plan.columns.keys()]
      .map(quoteIdent).join(", ");
    this.#db.exec(
      `INSERT INTO ${quoteIdent(temp)} (${names}) SELECT ${names} FROM ${quoteIdent(table)}`,
    );
    // A REAL value copied into a TEXT column would read "5.0": write each as new values are.
    for (const [column, type] of plan.columns) {
      if (type !== "text" || before.get(column) !== "real") continue;
      const c = quoteIdent(column);
      const reals = this.#db.prepare(
        `SELECT id, ${c} AS v FROM ${quoteIdent(table)} WHERE typeof(${c}) = 'real'`,
      ).all() as { id: string; v: number }[];
      const update = this.#db.prepare(`UPDATE ${quoteIdent(temp)} SET ${c} = ? WHERE id = ?`);
      for (const { id, v } of reals) update.run(String(v), id);
    }
    this.#db.exec(`DROP TABLE ${quoteIdent(table)}`);
    // Views name the table (a link table's view its parent): rename without checking them.
    this.#db.exec("PRAGMA legacy_alter_table = ON");
    try {
      this.#db.exec(`ALTER TABLE ${quoteIdent(temp)} RENAME TO ${quoteIdent(table)}`);
    } finally {
      this.#db.exec("PRAGMA legacy_alter_table = OFF");
    }
    plan.upsert = null;
  }

  #error(action: string, error: unknown): Error {
    const detail = errorMessage(error);
    const hint = /locked|busy/i.test(detail)
      ? " (another program holds a write lock on the database; close it and run again)"
      : /full|SQLITE_FULL/i.test(detail)
      ? " (the disk is full; free some space and run again)"
      : "";
    return new Error(
      `Cannot ${action} in SQLite database "${this.#path}": ${detail}${hint}`,
      { cause: error },
    );
  }
}

/** Run a synchronous database call as a promise (errors become rejections). */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * A value as the column of this type stores it exactly. Numbers bind as doubles, so a text
 * column gets their text (else `1` would read `"1.0"`); booleans are 0/1 everywhere.
 */
function toSqlite(value: FlatValue, type: ColumnType): string | number | bigint | null {
  if (value === null) return null;
  if (typeof value === "boolean") return type === "text" ? (value ? "1" : "0") : value ? 1 : 0;
  if (type === "text" && typeof value !== "string") return String(value);
  if (type === "real" && typeof value === "bigint") return Number(value);
  return value;
}
