/**
 * Shared by the reporting tests: a synced simulator database in SQLite or PostgreSQL, and one
 * way to run the same SQL against either (PostgreSQL: in the destination's schema).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { silentLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import type { Sink } from "../src/sink/sink.ts";
import { type RunResult } from "../src/sync/engine.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import type { TableName } from "../src/act/tables.ts";
import type { RunningSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, syncOnce } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";
import { postgresSkip } from "./_skip.ts";

/** Result rows with plain values: numbers, strings (dates as UTC ISO text), null. */
export type Rows = Record<string, unknown>[];

/** A destination the reporting tests run against. */
export interface ReportDestination {
  name: "SQLite" | "PostgreSQL";
  skip: string | false;
  /** A fresh destination URL. */
  create(folder: string, n: number): string;
  /** Create what the destination needs (PostgreSQL: the test database). */
  ready(): Promise<void>;
  /** Run one SQL statement in the destination; values made plain. */
  query(url: string, sql: string): Promise<Rows>;
  close(): Promise<void>;
}

/** Make driver values plain: Date → ISO text, bigint → number, booleans → 0/1. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Date) out[key] = value.toISOString().replace(".000Z", "Z");
    else if (typeof value === "bigint") out[key] = Number(value);
    else if (typeof value === "boolean") out[key] = value ? 1 : 0;
    else out[key] = value;
  }
  return out;
}

export const sqliteDestination: ReportDestination = {
  name: "SQLite",
  skip: false,
  create: (folder) => `sqlite:${join(folder, "act.db")}`,
  ready: () => Promise.resolve(),
  query(url, sql) {
    const db = new DatabaseSync(url.slice("sqlite:".length));
    try {
      return Promise.resolve((db.prepare(sql).all() as Record<string, unknown>[]).map(plain));
    } finally {
      db.close();
    }
  },
  close: () => Promise.resolve(),
};

/** A PostgreSQL destination in its own throw-away database. */
export function postgresDestination(prefix: string): ReportDestination {
  const db = new TestDatabase(prefix, { max: 2 });
  return {
    name: "PostgreSQL",
    skip: postgresSkip(),
    create: (_folder, n) => db.url(`schema=r${n}`),
    async ready() {
      await db.sql();
    },
    async query(url, sql) {
      const schema = new URL(url).searchParams.get("schema")!;
      const conn = await db.sql();
      const rows = await conn.begin(async (tx) => {
        await tx.unsafe(`SET LOCAL search_path TO "${schema}"`);
        return await tx.unsafe(sql);
      });
      return rows.map((r) => plain({ ...r }));
    },
    close: () => db.drop(),
  };
}

/** Sync `tables` from the simulator into `url` (state in `statePath`); asserts success. */
export async function syncInto(
  running: RunningSimulator,
  url: string,
  statePath: string,
  tables: readonly TableName[],
  wrap?: (sink: Sink) => Sink,
): Promise<RunResult> {
  const result = await syncOnce(url, statePath, {
    tables,
    source: simulatorClient(running.url),
    wrap,
  });
  const failed = result.tables.filter((t) => t.status !== "ok").map((t) => t.error);
  assert.deepEqual(failed, []);
  return result;
}

/** Reconcile `tables` (marks rows deleted in the simulator); asserts success. */
export async function reconcileInto(
  running: RunningSimulator,
  url: string,
  tables: readonly TableName[],
): Promise<void> {
  const sink = await openSink(url);
  try {
    const result = await reconcileTables({ tables, batchSize: 50, maxDeleteFraction: 0.9 }, {
      source: simulatorClient(running.url),
      sink,
      logger: silentLogger(),
      now: Date.now,
    });
    assert.equal(result.ok, true, JSON.stringify(result.tables.map((t) => t.error)));
  } finally {
    await sink.close();
  }
}

/** A date-time as the destination shows it: UTC ISO text ending in `Z`, whole seconds. */
export function utc(value: unknown): string | null {
  if (value === null || value === undefined || value === "") return null;
  return new Date(String(value)).toISOString().replace(".000Z", "Z");
}
