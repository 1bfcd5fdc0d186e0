/**
 * Private: history mode in the SQLite sink (see `_history.ts`). Runs inside the sink's write
 * transaction: {@linkcode SqliteHistory.prepare} before a page's rows are written (creates the
 * history table, seeded from the table's live rows, or gives it the table's new columns), then
 * {@linkcode SqliteHistory.record} with the rows the write changed.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  dropStageChangesSql,
  historyIndexSql,
  historyName,
  type HistoryPlan,
  STAGE_PATH,
  STAGE_TABLE,
  stageChangesViewSql,
  validFrom,
} from "./_history.ts";
import { quoteIdent } from "./_sql.ts";
import type { ColumnType, FlatValue } from "./sink.ts";

/** Statements for one history table and its current columns. */
interface Statements {
  /** The columns they were made for, in order, with types (`name:type,…`). */
  key: string;
  current: StatementSync;
  close: StatementSync;
  copy: StatementSync;
}

/** The history tables of one SQLite database. */
export class SqliteHistory {
  #db: DatabaseSync;
  #tables: ReadonlySet<string>;
  #declared: Record<ColumnType, string>;
  #statements = new Map<string, Statements>();

  constructor(db: DatabaseSync, tables: readonly string[], declared: Record<ColumnType, string>) {
    this.#db = db;
    this.#tables = new Set(tables);
    this.#declared = declared;
  }

  /** Whether the table keeps history. */
  has(table: string): boolean {
    return this.#tables.has(table);
  }

  /** Forget what is known (after a rolled-back transaction). */
  forget(): void {
    this.#statements.clear();
  }

  /** Bring the history table up to the table's columns (creating and seeding it when missing). */
  prepare(table: string, plan: HistoryPlan, at: string): void {
    const key = [...plan.columns].map(([n, t]) => `${n}:${t}`).join(",");
    if (this.#statements.get(table)?.key === key) return;
    const history = historyName(table);
    const info = this.#db.prepare(`PRAGMA table_info(${quoteIdent(history)})`).all() as {
      name: string;
      type: string;
    }[];
    const declared = (name: string) => this.#declared[plan.columns.get(name)!];
    const dataColumns = [...plan.columns.keys()];
    if (info.length === 0) {
      this.#create(history, plan);
      this.#db.exec(historyIndexSql(table));
      const all = ["id", "_act_synced", "_act_deleted", "_act_deleted_at", ...dataColumns]
        .map(quoteIdent).join(", ");
      this.#db.prepare(
        `INSERT INTO ${quoteIdent(history)} (${all}, "_act_valid_from", "_act_version") ` +
          `SELECT ${all}, ?, 1 FROM ${quoteIdent(table)} WHERE "_act_deleted" = 0`,
      ).run(at);
    } else {
      const have = new Map(info.map((c) => [c.name, c.type.toUpperCase()]));
      const differs = dataColumns.some((n) => have.has(n) && have.get(n) !== declared(n));
      if (differs) {
        this.#rebuild(table, plan, have);
      } else {
        for (const name of dataColumns) {
          if (have.has(name)) continue;
          this.#db.exec(
            `ALTER TABLE ${quoteIdent(history)} ADD COLUMN ${quoteIdent(name)} ${declared(name)}`,
          );
        }
      }
    }
    this.#view(table, plan);
    this.#statements.set(table, this.#prepareStatements(table, key, dataColumns));
  }

  /**
   * Write a version of each changed row, a copy of the row as the table now holds it
   * (`changed`: id → its cursor value, null for a delete); `at`: the sync or delete time.
   */
  record(table: string, changed: Map<string, FlatValue>, at: string): void {
    const statements = this.#statements.get(table);
    if (!statements || changed.size === 0) return;
    for (const [id, edited] of changed) {
      const current = statements.current.get(id) as { v: number; f: string } | undefined;
      const from = validFrom(edited, at, current ? Date.parse(current.f) : null);
      if (current) statements.close.run(from, id);
      statements.copy.run(from, current ? Number(current.v) + 1 : 1, id);
    }
  }

  #create(history: string, plan: HistoryPlan): void {
    const columns = [...plan.columns].map(([n, t]) => `, ${quoteIdent(n)} ${this.#declared[t]}`);
    this.#db.exec(
      `CREATE TABLE ${quoteIdent(history)} (id TEXT NOT NULL, _act_synced TEXT, ` +
        `_act_deleted INTEGER NOT NULL DEFAULT 0, _act_deleted_at TEXT, ` +
        `_act_valid_from TEXT NOT NULL, _act_valid_to TEXT, _act_version INTEGER NOT NULL` +
        columns.join("") + `, PRIMARY KEY (id, _act_version))`,
    );
  }

  /** Declared types changed (a widened column): copy into a table of the new types. */
  #rebuild(table: string, plan: HistoryPlan, have: Map<string, string>): void {
    const history = historyName(table);
    const temp = `${history}__act_sync_rebuild`;
    this.#db.exec(`DROP TABLE IF EXISTS ${quoteIdent(temp)}`);
    this.#db.exec(dropStageChangesSql());
    this.#create(temp, plan);
    const own = ["id", "_act_synced", "_act_deleted", "_act_deleted_at"];
    const names = [
      ...own,
      "_act_valid_from",
      "_act_valid_to",
      "_act_version",
      ...[...plan.columns.keys()].filter((n) => have.has(n)),
    ].map(quoteIdent).join(", ");
    this.#db.exec(
      `INSERT INTO ${quoteIdent(temp)} (${names}) SELECT ${names} FROM ${quoteIdent(history)}`,
    );
    // A REAL copied into a TEXT column would read "5.0": write it as new values are written.
    for (const [column, type] of plan.columns) {
      if (type !== "text" || have.get(column) !== "REAL") continue;
      const c = quoteIdent(column);
      const reals = this.#db.prepare(
        `SELECT id, _act_version AS v, ${c} AS x FROM ${
          quoteIdent(history)
        } WHERE typeof(${c}) = 'real'`,
      ).all() as { id: string; v: number; x: number }[];
      const update = this.#db.prepare(
        `UPDATE ${quoteIdent(temp)} SET ${c} = ? WHERE id = ? AND _act_version = ?`,
      );
      for (const { id, v, x } of reals) update.run(String(x), id, v);
    }
    this.#db.exec(`DROP TABLE ${quoteIdent(history)}`);
    this.#db.exec("PRAGMA legacy_alter_table = ON");
    try {
      this.#db.exec(`ALTER TABLE ${quoteIdent(temp)} RENAME TO ${quoteIdent(history)}`);
    } finally {
      this.#db.exec("PRAGMA legacy_alter_table = OFF");
    }
    this.#db.exec(historyIndexSql(table));
  }

  /** The stage changes view, for opportunities with a stage column. */
  #view(table: string, plan: HistoryPlan): void {
    if (table !== STAGE_TABLE) return;
    const column = plan.map.get(STAGE_PATH);
    if (column === undefined || !plan.columns.has(column)) return;
    this.#db.exec(dropStageChangesSql());
    this.#db.exec(stageChangesViewSql("sqlite", column));
  }

  #prepareStatements(table: string, key: string, dataColumns: string[]): Statements {
    const history = quoteIdent(historyName(table));
    const all = ["id", "_act_synced", "_act_deleted", "_act_deleted_at", ...dataColumns]
      .map(quoteIdent).join(", ");
    return {
      key,
      current: this.#db.prepare(
        `SELECT _act_version AS v, _act_valid_from AS f FROM ${history} ` +
          `WHERE id = ? AND _act_valid_to IS NULL`,
      ),
      close: this.#db.prepare(
        `UPDATE ${history} SET _act_valid_to = ? WHERE id = ? AND _act_valid_to IS NULL`,
      ),
      copy: this.#db.prepare(
        `INSERT INTO ${history} (${all}, "_act_valid_from", "_act_version") ` +
          `SELECT ${all}, ?, ? FROM ${quoteIdent(table)} WHERE id = ?`,
      ),
    };
  }
}
