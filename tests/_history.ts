/**
 * What the history tests share: the report queries of the docs, the two destinations, reading a
 * history table's versions and checking their periods.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { TestDatabase } from "./_postgres.ts";
import { postgresSkip } from "./_skip.ts";
import type { OpenSinkOptions } from "../src/sink/mod.ts";
import type { RunResult } from "../src/sync/engine.ts";
import { simulatorClient, syncOnce } from "./_helpers.ts";

let counter = 0;

/** A name not used before in this process. */
export function nextName(prefix: string): string {
  return `${prefix}${++counter}`;
}

/** The query pattern and report queries of docs/history-mode.md, the same text on both sinks. */
export const AS_OF = `
SELECT * FROM opportunities_history
WHERE "_act_valid_from" <= '2026-10-01T00:00:00.000Z'
  AND ("_act_valid_to" IS NULL OR "_act_valid_to" > '2026-10-01T00:00:00.000Z')
  AND NOT "_act_deleted"`;

export const PIPELINE_AT_MONTH_END = `
SELECT stage_name AS stage, count(*) AS deals, sum("productTotal") AS amount
FROM opportunities_history
WHERE "_act_valid_from" <= '2026-10-01T00:00:00.000Z'
  AND ("_act_valid_to" IS NULL OR "_act_valid_to" > '2026-10-01T00:00:00.000Z')
  AND NOT "_act_deleted"
GROUP BY stage_name ORDER BY stage_name`;

export const AVERAGE_DAYS_IN_STAGE = `
SELECT previous_stage AS stage, avg(previous_stage_days) AS days, count(*) AS changes
FROM opportunity_stage_changes
GROUP BY previous_stage ORDER BY previous_stage`;

export const CLOSE_DATE_MOVES = `
SELECT id, count(*) AS moves FROM (
  SELECT id, "estimatedCloseDate" AS close_date,
    LAG("estimatedCloseDate") OVER (PARTITION BY id ORDER BY "_act_version") AS previous,
    ROW_NUMBER() OVER (PARTITION BY id ORDER BY "_act_version") AS n
  FROM opportunities_history WHERE NOT "_act_deleted") AS v
WHERE n > 1 AND close_date IS DISTINCT FROM previous
GROUP BY id ORDER BY id`;

/** One destination: its URL and a plain query on it. */
export interface Target {
  destination: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export function sqliteTarget(dir: string): Target {
  const path = join(dir, `h${++counter}.db`);
  return {
    destination: `sqlite:${path}`,
    query(sql) {
      const db = new DatabaseSync(path);
      try {
        return Promise.resolve(db.prepare(sql).all() as Record<string, unknown>[]);
      } finally {
        db.close();
      }
    },
    close: () => Promise.resolve(),
  };
}

export function postgresTarget(): Target {
  const database = new TestDatabase("history");
  return {
    destination: database.url(),
    async query(sql) {
      return [...await (await database.sql()).unsafe(sql)];
    },
    close: () => database.drop(),
  };
}

/** An amount in whole cents (sums of doubles differ in their last bits). */
export function cents(value: unknown): number {
  return Math.round(Number(value) * 100);
}

/** A value as comparable text: date-times as ms, numbers as numbers, booleans as 0/1. */
export function ms(value: unknown): number {
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

export interface Version {
  id: string;
  version: number;
  from: number;
  to: number | null;
  deleted: boolean;
  stage: string;
  close: number;
  amount: number;
}

export async function versions(target: Target): Promise<Map<string, Version[]>> {
  const rows = await target.query(
    `SELECT id, "_act_version" AS v, "_act_valid_from" AS f, "_act_valid_to" AS t, ` +
      `"_act_deleted" AS d, stage_name AS s, "estimatedCloseDate" AS c, "productTotal" AS a ` +
      `FROM opportunities_history ORDER BY id, "_act_version"`,
  );
  const out = new Map<string, Version[]>();
  for (const r of rows) {
    const list = out.get(String(r.id)) ?? [];
    list.push({
      id: String(r.id),
      version: Number(r.v),
      from: ms(r.f),
      to: r.t === null ? null : ms(r.t),
      deleted: r.d === true || Number(r.d) === 1,
      stage: String(r.s),
      close: ms(r.c),
      amount: Number(r.a),
    });
    out.set(String(r.id), list);
  }
  return out;
}

/** Versions numbered 1, 2, … whose periods follow each other without overlap or gap. */
export function assertPeriods(all: Map<string, Version[]>): void {
  for (const [id, list] of all) {
    list.forEach((v, i) => {
      assert.equal(v.version, i + 1, `${id}: version numbers`);
      const next = list[i + 1];
      if (next) {
        assert.equal(v.to, next.from, `${id} v${v.version}: ends where the next begins`);
        assert.ok(next.from > v.from, `${id} v${next.version}: starts after v${v.version}`);
      } else assert.equal(v.to, null, `${id}: the last version is current`);
    });
  }
}

export async function count(target: Target, table: string): Promise<number> {
  const [row] = await target.query(`SELECT count(*) AS n FROM ${table}`);
  return Number(row.n);
}

export function sinks(dir: string): [string, () => Target, string | false][] {
  return [["sqlite", () => sqliteTarget(dir), false], [
    "postgres",
    postgresTarget,
    postgresSkip(),
  ]];
}

/**
 * A sync of `opportunities` from the simulator at `simulatorUrl` into `destination` (its state
 * file in `dir`), with history mode per `sinkOptions`; each call asserts the run succeeded.
 * A call may ask for a full refresh or another `history` list.
 */
export function opportunitySync(
  dir: string,
  destination: string,
  simulatorUrl: string,
  now: () => number,
  sinkOptions: OpenSinkOptions = { history: ["opportunities"] },
): (options?: { fullRefresh?: boolean; history?: string[] }) => Promise<RunResult> {
  const state = join(dir, nextName("s") + ".json");
  const client = simulatorClient(simulatorUrl);
  return async (options = {}) => {
    const result = await syncOnce(destination, state, {
      tables: ["opportunities"],
      source: client,
      now,
      fullRefresh: options.fullRefresh,
      sinkOptions: options.history ? { ...sinkOptions, history: options.history } : sinkOptions,
    });
    assert.equal(result.ok, true, JSON.stringify(result.tables.map((x) => x.error)));
    return result;
  };
}
