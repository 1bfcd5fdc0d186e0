/**
 * The two destinations a sync test writes into, SQLite and PostgreSQL, read back the same way;
 * the PostgreSQL one is skipped when no server is set (see `./_skip.ts`).
 */
import { join } from "node:path";
import type { TableName } from "../src/act/tables.ts";
import { sqliteCount, sqliteRows } from "./_helpers.ts";
import type { TestDatabase } from "./_postgres.ts";
import { postgresSkip } from "./_skip.ts";

/** A destination under test: a fresh URL per harness, and its rows read back. */
export interface Destination {
  name: "SQLite" | "PostgreSQL";
  /** Why its tests are skipped, or false. */
  skip: string | false;
  /** A fresh destination URL for harness `n`. */
  url(n: number): string;
  /** The live rows of a table, keyed by id; empty when the table is missing. */
  rows(url: string, table: TableName): Promise<Map<string, Record<string, unknown>>>;
  /** The rows of a table, rows marked deleted included (a duplicate id adds one). */
  count(url: string, table: TableName): Promise<number>;
}

/**
 * The two destinations of a test file: SQLite files `<dir>/<prefix><n>.db`, and schemas
 * `<prefix><n>` of `testDb` (the file creates and drops it).
 */
export function testDestinations(dir: string, testDb: TestDatabase, prefix: string): Destination[] {
  const file = (url: string) => url.slice("sqlite:".length);
  const schema = (url: string) => new URL(url).searchParams.get("schema")!;
  return [{
    name: "SQLite",
    skip: false,
    url: (n) => `sqlite:${join(dir, `${prefix}${n}.db`)}`,
    rows: (url, table) => Promise.resolve(sqliteRows(file(url), table)),
    count: (url, table) => Promise.resolve(sqliteCount(file(url), table)),
  }, {
    name: "PostgreSQL",
    skip: postgresSkip(),
    url: (n) => testDb.url(`schema=${prefix}${n}`),
    async rows(url, table) {
      const sql = await testDb.sql();
      const exists = await sql`SELECT 1 FROM information_schema.tables
        WHERE table_schema = ${schema(url)} AND table_name = ${table}`;
      if (exists.length === 0) return new Map();
      const rows = await sql.unsafe(
        `SELECT * FROM "${schema(url)}"."${table}" WHERE NOT _act_deleted`,
      );
      return new Map(rows.map((r) => [String(r.id), { ...r }]));
    },
    async count(url, table) {
      const rows = await (await testDb.sql()).unsafe(
        `SELECT count(*)::int AS n FROM "${schema(url)}"."${table}"`,
      );
      return Number(rows[0].n);
    },
  }];
}
