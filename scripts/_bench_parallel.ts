/**
 * The bench's `parallel` section (`scripts/bench.ts`): a first sync of every table of the
 * simulator at `--parallel-sizes` records with every answer `--latency` ms late and the default
 * configuration (`max_parallel_requests` 4, `rate_limit_pause` 0.25 s), and, at the sizes in
 * `--parallel-compare`, the same run with `max_parallel_requests: 1` side by side, with a check
 * that both destinations hold identical tables (every column but `_act_synced`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { simulatorConfig, startSimulator } from "../src/simulator/mod.ts";

/** What a run of the CLI measured (`measure()` of `scripts/bench.ts`). */
interface Measured {
  ms: number;
  peakMb: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** One first sync of the section. */
export interface ParallelRow {
  records: number;
  parallel: number;
  ms: number;
  requests: number;
  peakMb: number;
  /** The line items' seconds, from the run's summary. */
  tables: string;
  /** The tables' digest, to compare runs. */
  digest: string;
}

/** Options of {@linkcode benchParallel}. */
export interface ParallelBench {
  sizes: number[];
  compare: Set<number>;
  latencyMs: number;
  work: string;
  command: string[];
  measure: (command: string[], cwd: string) => Promise<Measured>;
}

/** Every table of an SQLite destination, without `_act_synced`, as one digest. */
function digest(path: string): string {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const hash = createHash("sha256");
    const tables = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ).all() as { name: string }[];
    for (const { name } of tables) {
      const columns = (db.prepare(`PRAGMA table_info("${name}")`).all() as { name: string }[])
        .map((c) => c.name).filter((c) => c !== "_act_synced").sort();
      const list = columns.map((c) => `"${c}"`).join(", ");
      const rows = db.prepare(`SELECT ${list} FROM "${name}"`).all()
        .map((row) => JSON.stringify(row)).sort();
      hash.update(`${name}\n${columns.join(",")}\n${rows.join("\n")}\n`);
    }
    return hash.digest("hex").slice(0, 16);
  } finally {
    db.close();
  }
}

/** The line items' seconds in a run's summary (`opportunity_products … 12.3 s  ok`). */
function lineItemSeconds(stdout: string): string {
  const line = stdout.split("\n").find((l) => l.trimStart().startsWith("opportunity_products"));
  return /(\d+(?:\.\d+)?) s\b/.exec(line ?? "")?.[0] ?? "?";
}

/** Run the section; returns its rows (also printed as JSON lines). */
export async function benchParallel(bench: ParallelBench): Promise<ParallelRow[]> {
  const rows: ParallelRow[] = [];
  for (const records of bench.sizes) {
    const running = await startSimulator({
      seed: 1,
      records,
      switches: { latencyMs: bench.latencyMs },
    });
    try {
      for (const parallel of bench.compare.has(records) ? [4, 1] : [4]) {
        const folder = join(bench.work, "parallel", `${records}-${parallel}`);
        mkdirSync(folder, { recursive: true });
        const config = simulatorConfig(running.url, { lookback_seconds: 0 });
        delete config.rate_limit_pause; // the defaults: 0.25 s, max_parallel_requests 4
        if (parallel !== 4) config.max_parallel_requests = parallel;
        writeFileSync(join(folder, "configuration.json"), JSON.stringify(config));
        const before = running.sim.stats.requests;
        const run = await bench.measure([...bench.command, "--once"], folder);
        if (run.code !== 0) throw new Error(`parallel run failed: ${run.stderr}${run.stdout}`);
        const row: ParallelRow = {
          records,
          parallel,
          ms: run.ms,
          requests: running.sim.stats.requests - before,
          peakMb: run.peakMb,
          tables: lineItemSeconds(run.stdout),
          digest: digest(join(folder, "act.db")),
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    } finally {
      await running.close();
    }
  }
  return rows;
}

/** The section's part of `bench/results.md`. */
export function parallelLines(rows: ParallelRow[], latencyMs: number): string[] {
  if (rows.length === 0) return [];
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
  const base = (r: ParallelRow) =>
    rows.find((o) => o.records === r.records && o.parallel === 1 && r.parallel !== 1);
  return [
    `First sync of every table, every answer ${latencyMs} ms late, default configuration ` +
    "(rate_limit_pause 0.25 s), by max_parallel_requests; same digest = identical tables:",
    "",
    "| records | max_parallel_requests | requests | wall | vs. 1 | line items | digest | peak RSS |",
    "|---:|---:|---:|---:|---:|---|---|---:|",
    ...rows.map((r) => {
      const one = base(r);
      const ratio = one ? `${(r.ms / one.ms).toFixed(2)}×` : "";
      const same = one ? (one.digest === r.digest ? " (identical)" : " (DIFFERENT)") : "";
      return `| ${fmt(r.records)} | ${r.parallel} | ${fmt(r.requests)} | ${
        (r.ms / 1000).toFixed(1)
      } s | ${ratio} | ${r.tables} | ${r.digest}${same} | ${fmt(r.peakMb)} MB |`;
    }),
    "",
  ];
}
