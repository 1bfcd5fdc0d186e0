/**
 * Private: history mode in the PostgreSQL sink (see `_history.ts`). Runs inside the sink's write
 * transaction: {@linkcode PgHistory.prepare} before a page's rows are written (creates the
 * history table, seeded from the table's live rows, or gives it the table's new and widened
 * columns); per chunk, {@linkcode PgHistory.changedSql} asks which rows the upsert is about to
 * change, and {@linkcode PgHistory.record} writes their versions after it.
 *
 * @module
 */
import type postgres from "postgres";
import {
  dropStageChangesSql,
  historyIndexSql,
  historyName,
  type HistoryPlan,
  STAGE_CHANGES_VIEW,
  STAGE_PATH,
  STAGE_TABLE,
  stageChangesViewSql,
  validFrom,
} from "./_history.ts";
import { columnTypeOf, PG_TYPES, widenClause } from "./_pg_sql.ts";
import { quoteIdent } from "./_sql.ts";
import { grantSelectSql } from "./_views.ts";
import { type ColumnType, type FlatValue, widenType } from "./sink.ts";

type TxSql = postgres.TransactionSql;

/** The table's own columns, in the order the copies name them. */
const OWN = ["id", "_act_synced", "_act_deleted", "_act_deleted_at"];

/** The history tables of one PostgreSQL schema. */
export class PgHistory {
  #schema: string;
  #tables: ReadonlySet<string>;
  /** Table → the columns (`name:type,…`) its history table is known to match. */
  #known = new Map<string, string>();
  #changed = new Map<string, string>();
  /** The role granted SELECT on the history tables and views (`report_role`). */
  #reportRole: string | undefined;

  constructor(schema: string, tables: readonly string[], reportRole?: string) {
    this.#schema = schema;
    this.#tables = new Set(tables);
    this.#reportRole = reportRole;
  }

  /** Whether the table keeps history. */
  has(table: string): boolean {
    return this.#tables.has(table);
  }

  /** Forget what is known (after a rolled-back transaction). */
  forget(): void {
    this.#known.clear();
  }

  #name(table: string): string {
    return `${quoteIdent(this.#schema)}.${quoteIdent(table)}`;
  }

  /** Bring the history table up to the table's columns (creating and seeding it when missing). */
  async prepare(tx: TxSql, table: string, plan: HistoryPlan, at: string): Promise<void> {
    const key = [...plan.columns].map(([n, t]) => `${n}:${t}`).join(",");
    if (this.#known.get(table) === key) return;
    const history = this.#name(historyName(table));
    await tx.unsafe("SELECT pg_advisory_xact_lock(hashtext($1))", [history]);
    const rows = await tx.unsafe(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type ` +
        `FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 ` +
        `AND NOT a.attisdropped`,
      [history],
    );
    if (rows.length === 0) {
      const columns = [...plan.columns].map(([n, t]) => `, ${quoteIdent(n)} ${PG_TYPES[t]}`);
      await tx.unsafe(
        `CREATE TABLE ${history} ("id" text NOT NULL, "_act_synced" timestamptz, ` +
          `"_act_deleted" boolean NOT NULL DEFAULT false, "_act_deleted_at" timestamptz, ` +
          `"_act_valid_from" timestamptz NOT NULL, "_act_valid_to" timestamptz, ` +
          `"_act_version" integer NOT NULL${columns.join("")}, PRIMARY KEY ("id", "_act_version"))`,
      );
      await tx.unsafe(historyIndexSql(table, this.#schema));
      const all = [...OWN, ...plan.columns.keys()].map(quoteIdent).join(", ");
      await tx.unsafe(
        `INSERT INTO ${history} (${all}, "_act_valid_from", "_act_version") ` +
          `SELECT ${all}, $1::timestamptz, 1 FROM ${this.#name(table)} WHERE NOT "_act_deleted"`,
        [at],
      );
    } else {
      const have = new Map<string, ColumnType>(
        rows.map((r) => [String(r.name), columnTypeOf(String(r.type))]),
      );
      const clauses: string[] = [];
      // The stage view reads the stage column: PostgreSQL changes its type only without the view.
      const stage = table === STAGE_TABLE ? plan.map.get(STAGE_PATH) : undefined;
      let stageWidened = false;
      for (const [name, type] of plan.columns) {
        const current = have.get(name);
        if (current === undefined) clauses.push(`ADD COLUMN ${quoteIdent(name)} ${PG_TYPES[type]}`);
        else if (current !== type && widenType(current, type) === type) {
          clauses.push(widenClause(name, current, type));
          stageWidened ||= name === stage;
        }
      }
      if (stageWidened) await tx.unsafe(dropStageChangesSql(this.#schema));
      if (clauses.length > 0) await tx.unsafe(`ALTER TABLE ${history} ${clauses.join(", ")}`);
    }
    const built = [historyName(table)];
    if (table === STAGE_TABLE) {
      const column = plan.map.get(STAGE_PATH);
      if (column !== undefined && plan.columns.has(column)) {
        await tx.unsafe(stageChangesViewSql("postgres", column, this.#schema));
        built.push(STAGE_CHANGES_VIEW);
      }
    }
    // Default privileges cover what is created later; the grant again makes sure of it.
    if (this.#reportRole !== undefined) {
      await tx.unsafe(grantSelectSql(this.#schema, built, this.#reportRole));
    }
    this.#known.set(table, key);
  }

  /**
   * For one chunk as the upsert receives it (`$1`, see `upsertSql`), the ids (`id`) the upsert
   * is about to insert, change or bring back from deleted: the comparison of `_changes.ts`.
   */
  changedSql(table: string, columns: readonly [string, ColumnType][]): string {
    const key = table + "\0" + columns.map(([n, t]) => `${n}:${t}`).join(",");
    let sql = this.#changed.get(key);
    if (sql !== undefined) return sql;
    const record = [
      "k text",
      ...columns.map(([, type], i) => `c${i} ${type === "json" ? "text" : PG_TYPES[type]}`),
    ];
    const stored = columns.map(([name]) => `t.${quoteIdent(name)}`);
    const incoming = columns.map(([, type], i) => type === "json" ? `x.c${i}::jsonb` : `x.c${i}`);
    const differs = columns.length === 0
      ? ""
      : ` OR ROW(${stored.join(", ")}) IS DISTINCT FROM ROW(${incoming.join(", ")})`;
    sql = `SELECT x.k AS id FROM json_to_recordset($1::text::json) AS x(${record.join(", ")}) ` +
      `LEFT JOIN ${this.#name(table)} AS t ON t."id" = x.k ` +
      `WHERE t."id" IS NULL OR t."_act_deleted"${differs}`;
    if (this.#changed.size > 100) this.#changed.clear();
    this.#changed.set(key, sql);
    return sql;
  }

  /** Write a version of each changed row (`changed`: id as stored → its cursor value). */
  async record(
    tx: TxSql,
    table: string,
    plan: HistoryPlan,
    changed: Map<string, FlatValue>,
    at: string,
  ): Promise<void> {
    if (changed.size === 0) return;
    const history = this.#name(historyName(table));
    const current = await tx.unsafe(
      `SELECT "id", "_act_version" AS v, ` +
        `floor(extract(epoch FROM "_act_valid_from") * 1000)::bigint::text AS f ` +
        `FROM ${history} WHERE "_act_valid_to" IS NULL ` +
        `AND "id" IN (SELECT json_array_elements_text($1::text::json))`,
      [JSON.stringify([...changed.keys()])],
    );
    const before = new Map(current.map((r) => [String(r.id), { v: Number(r.v), f: Number(r.f) }]));
    const versions = [...changed].map(([id, edited]) => {
      const previous = before.get(id);
      return { k: id, f: validFrom(edited, at, previous?.f ?? null), v: (previous?.v ?? 0) + 1 };
    });
    const json = JSON.stringify(versions);
    const source = `json_to_recordset($1::text::json) AS x(k text, f text, v integer)`;
    await tx.unsafe(
      `UPDATE ${history} AS h SET "_act_valid_to" = x.f::timestamptz FROM ${source} ` +
        `WHERE h."id" = x.k AND h."_act_valid_to" IS NULL`,
      [json],
    );
    const all = [...OWN, ...plan.columns.keys()].map(quoteIdent);
    await tx.unsafe(
      `INSERT INTO ${history} (${all.join(", ")}, "_act_valid_from", "_act_version") ` +
        `SELECT ${all.map((c) => `t.${c}`).join(", ")}, x.f::timestamptz, x.v ` +
        `FROM ${source} JOIN ${this.#name(table)} AS t ON t."id" = x.k`,
      [json],
    );
  }
}
