/**
 * What history mode costs, side by side in one run:
 *  1. the time it adds to a first sync of N opportunities (default 200,000) into SQLite (and
 *     PostgreSQL with `--postgres URL` or env ACT_SYNC_TEST_PG): one sync with history mode off,
 *     one with it on, each into a fresh destination from the same simulator;
 *  2. the size of `opportunities_history` after 10 more runs with 1% of the opportunities
 *     changed before each (a stage, close date or amount: the simulator's pipeline actions),
 *     beside the size of `opportunities`.
 * The engine runs in this process (no CLI), `batch_size` 5000, against the simulator.
 *
 *   bun scripts/bench_history.ts [--size 200000] [--runs 10] [--postgres URL]
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { ActClient } from "../src/act/client.ts";
import { silentLogger } from "../src/core/log.ts";
import { openSink } from "../src/sink/mod.ts";
import { PipelineMutator, startSimulator } from "../src/simulator/mod.ts";
import { readState, writeState } from "../src/state/mod.ts";
import { syncTables } from "../src/sync/engine.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    size: { type: "string", default: "200000" },
    runs: { type: "string", default: "10" },
    postgres: { type: "string", default: process.env.ACT_SYNC_TEST_PG ?? "" },
  },
});
const size = Number(values.size);
const runs = Number(values.runs);
const work = mkdtempSync(join(tmpdir(), "act-sync-bench-history-"));
const DAY = 86_400_000;
let clock = Date.parse("2026-09-01T00:00:00Z");
const running = await startSimulator({
  seed: 3,
  counts: { opportunities: size, contacts: 1000, companies: 200, groups: 10 },
  now: () => clock,
});
const client = new ActClient({
  baseUrl: running.url,
  username: "demo",
  password: "demo",
  database: "ActDemo",
  pauseMs: 0,
});

async function sync(destination: string, state: string, history: string[]): Promise<number> {
  const sink = await openSink(destination, { history });
  const started = performance.now();
  try {
    const result = await syncTables(readState(state), {
      tables: ["opportunities"],
      batchSize: 5000,
      lookbackSeconds: 60,
      defaultStartDate: "1900-01-01T00:00:00Z",
    }, {
      logger: silentLogger(),
      now: () => clock,
      saveState: (s) => writeState(state, s),
      source: client,
      sink,
    });
    if (!result.ok) throw new Error(JSON.stringify(result.tables.map((t) => t.error)));
  } finally {
    await sink.close();
  }
  return (performance.now() - started) / 1000;
}

interface Target {
  name: string;
  destination: (tag: string) => Promise<string>;
  size: (destination: string, table: string) => Promise<{ rows: number; bytes: number }>;
  close: () => Promise<void>;
}

const targets: Target[] = [{
  name: "SQLite",
  destination: (tag) => Promise.resolve(`sqlite:${join(work, `${tag}.db`)}`),
  size(destination, table) {
    const db = new DatabaseSync(destination.slice("sqlite:".length), { readOnly: true });
    try {
      const { rows } = db.prepare(`SELECT count(*) AS rows FROM "${table}"`).get() as {
        rows: number;
      };
      const { bytes } = db.prepare(
        "SELECT sum(pgsize) AS bytes FROM dbstat WHERE name = ? OR name IN " +
          "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?)",
      ).get(table, table) as { bytes: number };
      return Promise.resolve({ rows: Number(rows), bytes: Number(bytes) });
    } finally {
      db.close();
    }
  },
  close: () => Promise.resolve(),
}];
if (values.postgres) {
  const admin = postgres(values.postgres, { max: 1, onnotice: () => {} });
  const made: string[] = [];
  targets.push({
    name: "PostgreSQL",
    async destination(tag) {
      const name = `act_sync_bench_history_${tag}_${process.pid}`;
      await admin.unsafe(`CREATE DATABASE "${name}"`);
      made.push(name);
      const url = new URL(values.postgres!);
      url.pathname = `/${name}`;
      return url.href;
    },
    async size(destination, table) {
      const sql = postgres(destination, { max: 1, onnotice: () => {} });
      try {
        const [row] = await sql.unsafe(
          `SELECT (SELECT count(*) FROM "${table}")::int AS rows, ` +
            `pg_total_relation_size('"${table}"')::bigint::text AS bytes`,
        );
        return { rows: Number(row.rows), bytes: Number(row.bytes) };
      } finally {
        await sql.end();
      }
    },
    async close() {
      for (const name of made) await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  });
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
try {
  console.log(
    `history mode bench: ${size} opportunities, batch 5000, ${
      process.versions.bun ? "Bun " + process.versions.bun : "Deno " + process.versions.deno
    }`,
  );
  const onDestinations = new Map<string, string>();
  for (const target of targets) {
    const off = await target.destination("off");
    const on = await target.destination("on");
    const tOff = await sync(off, join(work, `${target.name}-off.json`), []);
    const tOn = await sync(on, join(work, `${target.name}-on.json`), ["opportunities"]);
    onDestinations.set(target.name, on);
    console.log(
      `${target.name} first sync: history off ${tOff.toFixed(1)} s, on ${tOn.toFixed(1)} s ` +
        `(+${(tOn - tOff).toFixed(1)} s, +${((tOn / tOff - 1) * 100).toFixed(0)}%)`,
    );
  }
  const mutator = new PipelineMutator(running.sim, 11);
  for (let run = 0; run < runs; run++) {
    clock += DAY;
    mutator.mutate(Math.round(size / 100));
    clock += 60_000;
    for (const target of targets) {
      await sync(onDestinations.get(target.name)!, join(work, `${target.name}-on.json`), [
        "opportunities",
      ]);
    }
  }
  for (const target of targets) {
    const on = onDestinations.get(target.name)!;
    const table = await target.size(on, "opportunities");
    const history = await target.size(on, "opportunities_history");
    console.log(
      `${target.name} after ${runs} runs with 1% changed: opportunities_history ` +
        `${history.rows} rows, ${mb(history.bytes)}; opportunities ${table.rows} rows, ` +
        `${mb(table.bytes)} (history ${(history.bytes / table.bytes).toFixed(2)}× the table)`,
    );
  }
} finally {
  for (const target of targets) await target.close();
  await running.close();
  rmSync(work, { recursive: true, force: true });
}
