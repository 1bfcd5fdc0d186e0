/**
 * `npm run bench`: act-sync against the limit of what this machine can move.
 *
 * The simulator serves N contact-shaped records (~2 KB of JSON each) from this process, with
 * `rate_limit_pause` 0. Side by side, in one run, for each N:
 *  1. the limit: a plain client (scripts/_plain_client.ts, its own process) that fetches the
 *     same pages with the same `batch_size` and `JSON.parse`s them;
 *  2. `act-sync --once` into SQLite (dist/act-sync when built, else the source under Bun);
 *  3. an incremental run with nothing changed, and one with 1% of the rows changed.
 * Reports rows/s, the ratio of (2) to (1), peak resident memory, requests, and writes
 * bench/results.md and bench/results.svg. Then, on a server that behaves like a real one:
 *  4. a first sync of `--latency-size` contacts with every answer `--latency` ms late and the
 *     default `rate_limit_pause` (0.25 s): wall time against `requests × max(latency, pause)`,
 *     beside the plain client's on the same server at the same pace (the simulator's own time
 *     to build a page comes on top of the latency, for both);
 *  5. `act-sync reconcile contacts` over `--reconcile-sizes` ids (destination already holding
 *     them), default pause, no page cap: requests and seconds;
 *  6. (`--sections parallel`) a first sync of every table at `--parallel-sizes` records, answers
 *     `--latency` ms late, default configuration, and at `--parallel-compare` sizes the same with
 *     `max_parallel_requests: 1` beside it, tables compared (`scripts/_bench_parallel.ts`).
 * With `--baseline DIR` (another checkout, e.g. `git worktree add --detach DIR main`), 2, 4 and 5
 * also run that checkout's `mod.ts` under Bun, side by side in the same run (for 2: its first
 * sync's rows/s, ratio and peak RSS, in a table of their own).
 *
 *   bun scripts/bench.ts [--sizes 10000,100000,200000,1000000] [--batch 5000] [--binary PATH]
 *                        [--postgres URL]   (default: env ACT_SYNC_TEST_PG; adds PostgreSQL rows/s)
 *                        [--latency-size 200000] [--latency 300] [--latency-batch 2000]
 *                        [--reconcile-sizes 240000,1000000] [--baseline DIR]
 *                        [--sections sync,latency,reconcile,parallel]
 *                        [--parallel-sizes 2000,10000] [--parallel-compare 2000]
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { benchParallel, parallelLines } from "./_bench_parallel.ts";

const root = resolve(import.meta.dirname ?? ".", "..");
const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    sizes: { type: "string", default: "10000,100000,200000,1000000" },
    batch: { type: "string", default: "5000" },
    binary: { type: "string" },
    out: { type: "string", default: join(root, "bench") },
    postgres: { type: "string", default: process.env.ACT_SYNC_TEST_PG ?? "" },
    "latency-size": { type: "string", default: "200000" },
    latency: { type: "string", default: "300" },
    "latency-batch": { type: "string", default: "2000" },
    "reconcile-sizes": { type: "string", default: "240000,1000000" },
    baseline: { type: "string" },
    sections: { type: "string", default: "sync,latency,reconcile" },
    "parallel-sizes": { type: "string", default: "2000,10000" },
    "parallel-compare": { type: "string", default: "2000" },
  },
});
const sections = new Set(values.sections!.split(","));
const PAUSE = 0.25; // the default rate_limit_pause
const sizes = values.sizes!.split(",").map(Number);
const batch = Number(values.batch);
const binary = values.binary ?? (existsSync(join(root, "dist/act-sync")) ? "dist/act-sync" : "");
const bun = join(root, "node_modules/.bin/bun");
const actSync = binary ? [resolve(root, binary)] : [bun, join(root, "mod.ts")];
const work = join(values.out!, "tmp");

interface Measured {
  ms: number;
  peakMb: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Run a command; peak RSS from /proc/PID/status VmHWM, polled until it exits. */
function measure(command: string[], cwd: string): Promise<Measured> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(command[0], command.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let peak = 0;
    child.stdout!.on("data", (c) => stdout += c);
    child.stderr!.on("data", (c) => stderr += c);
    const poll = setInterval(() => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peak = Math.max(peak, kb);
      } catch { /* exited */ }
    }, 20);
    child.on("error", fail);
    child.on("close", (code) => {
      clearInterval(poll);
      done({ ms: performance.now() - started, peakMb: peak / 1024, stdout, stderr, code });
    });
  });
}

interface Row {
  n: number;
  plainRps: number;
  plainPeak: number;
  syncRps: number;
  syncPeak: number;
  ratio: number;
  syncRequests: number;
  idleMs: number;
  idleRequests: number;
  changedMs: number;
  changedRows: number;
  changedRequests: number;
  pgRps: number | null;
  /** The baseline checkout's first sync (`--baseline`), measured in the same run. */
  baseline: { rps: number; ratio: number; peakMb: number } | null;
}

const results: Row[] = [];
rmSync(work, { recursive: true, force: true });
for (const n of sections.has("sync") ? sizes : []) {
  const folder = join(work, String(n));
  mkdirSync(folder, { recursive: true });
  const running = await startSimulator({ seed: 1, counts: contactsOnly(n) });
  const { sim } = running;
  try {
    writeFileSync(
      join(folder, "configuration.json"),
      JSON.stringify(
        simulatorConfig(running.url, {
          batch_size: batch,
          tables: "contacts",
          lookback_seconds: 0,
        }),
      ),
    );
    const plain = await measure([
      bun,
      join(root, "scripts/_plain_client.ts"),
      running.url,
      String(batch),
    ], folder);
    if (plain.code !== 0) throw new Error(`plain client failed: ${plain.stderr}`);
    const plainResult = JSON.parse(plain.stdout) as { rows: number; requests: number };

    let baseline: Row["baseline"] = null;
    if (values.baseline) {
      const other = join(folder, "baseline");
      mkdirSync(other, { recursive: true });
      writeFileSync(
        join(other, "configuration.json"),
        readFileSync(join(folder, "configuration.json")),
      );
      const run = await measure([bun, resolve(values.baseline, "mod.ts"), "--once"], other);
      if (run.code !== 0) throw new Error(`baseline --once failed: ${run.stderr}${run.stdout}`);
      baseline = {
        rps: n / (run.ms / 1000),
        ratio: (n / run.ms) / (plainResult.rows / plain.ms),
        peakMb: run.peakMb,
      };
      rmSync(other, { recursive: true, force: true });
    }

    let before = sim.stats.dataRequests;
    const once = await measure([...actSync, "--once"], folder);
    if (once.code !== 0) throw new Error(`act-sync --once failed: ${once.stderr}${once.stdout}`);
    const syncRequests = sim.stats.dataRequests - before;

    before = sim.stats.dataRequests;
    const idle = await measure([...actSync, "--once"], folder);
    if (idle.code !== 0) throw new Error(`idle run failed: ${idle.stderr}`);
    const idleRequests = sim.stats.dataRequests - before;

    const changed = Math.max(1, Math.floor(n / 100));
    for (let i = 0; i < changed; i++) sim.edit("contacts", sim.idAt("contacts", (i * 97) % n));
    before = sim.stats.dataRequests;
    const incremental = await measure([...actSync, "--once"], folder);
    if (incremental.code !== 0) throw new Error(`incremental run failed: ${incremental.stderr}`);
    const changedRequests = sim.stats.dataRequests - before;
    let pgRps: number | null = null;
    if (values.postgres) {
      // The same first sync into PostgreSQL, in a schema of its own.
      const url = new URL(values.postgres);
      url.searchParams.set("schema", `act_sync_bench_${n}_${Date.now()}`);
      const pg = await measure([
        ...actSync,
        "--once",
        "--full-refresh",
        "--state",
        "pg-state.json",
        "--destination",
        url.href,
      ], folder);
      if (pg.code !== 0) throw new Error(`PostgreSQL run failed: ${pg.stderr}`);
      pgRps = n / (pg.ms / 1000);
      const sql = postgres(values.postgres, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${url.searchParams.get("schema")}" CASCADE`);
      await sql.end();
    }
    const row: Row = {
      n,
      plainRps: plainResult.rows / (plain.ms / 1000),
      plainPeak: plain.peakMb,
      syncRps: n / (once.ms / 1000),
      syncPeak: once.peakMb,
      ratio: (n / once.ms) / (plainResult.rows / plain.ms),
      syncRequests,
      idleMs: idle.ms,
      idleRequests,
      changedMs: incremental.ms,
      changedRows: changed,
      changedRequests,
      pgRps,
      baseline,
    };
    results.push(row);
    console.log(JSON.stringify(row));
  } finally {
    await running.close();
  }
}
/** The programs compared in sections 4 and 5: this checkout, and the baseline when given. */
const programs: { name: string; command: string[] }[] = [
  ...(values.baseline
    ? [{
      name: `baseline (${values.baseline})`,
      command: [bun, resolve(values.baseline, "mod.ts")],
    }]
    : []),
  { name: binary || "bun mod.ts", command: actSync },
];

function contactsOnly(n: number) {
  return {
    contacts: n,
    companies: 0,
    opportunities: 0,
    activities: 0,
    products: 0,
    activity_types: 0,
  };
}

interface LatencyRow {
  program: string;
  n: number;
  requests: number;
  ms: number;
  idealMs: number;
  peakMb: number;
}
const latencyRows: LatencyRow[] = [];
const latencyMs = Number(values.latency);
const latencyN = Number(values["latency-size"]);
const latencyBatch = Number(values["latency-batch"]);
if (sections.has("latency")) {
  const running = await startSimulator({
    seed: 1,
    counts: contactsOnly(latencyN),
    switches: { latencyMs },
  });
  try {
    // The reference: a client that only fetches and parses the same pages, at the same pace.
    mkdirSync(work, { recursive: true });
    const before = running.sim.stats.requests;
    const plain = await measure([
      bun,
      join(root, "scripts/_plain_client.ts"),
      running.url,
      String(latencyBatch),
      String(PAUSE * 1000),
    ], work);
    if (plain.code !== 0) throw new Error(`plain client failed: ${plain.stderr}`);
    const plainRequests = running.sim.stats.requests - before;
    latencyRows.push({
      program: "plain client (fetch + JSON.parse only)",
      n: latencyN,
      requests: plainRequests,
      ms: plain.ms,
      idealMs: plainRequests * Math.max(latencyMs, PAUSE * 1000),
      peakMb: plain.peakMb,
    });
    console.log(JSON.stringify(latencyRows.at(-1)));
    for (const program of programs) {
      const folder = join(work, "latency", String(latencyRows.length));
      mkdirSync(folder, { recursive: true });
      writeFileSync(
        join(folder, "configuration.json"),
        JSON.stringify(
          simulatorConfig(running.url, {
            batch_size: latencyBatch,
            tables: "contacts",
            lookback_seconds: 0,
            rate_limit_pause: PAUSE,
          }),
        ),
      );
      const before = running.sim.stats.requests;
      const run = await measure([...program.command, "--once"], folder);
      if (run.code !== 0) throw new Error(`latency run failed: ${run.stderr}${run.stdout}`);
      const requests = running.sim.stats.requests - before;
      const row = {
        program: program.name,
        n: latencyN,
        requests,
        ms: run.ms,
        idealMs: requests * Math.max(latencyMs, PAUSE * 1000),
        peakMb: run.peakMb,
      };
      latencyRows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await running.close();
  }
}

interface ReconcileRow {
  program: string;
  n: number;
  requests: number;
  ms: number;
  peakMb: number;
}
const reconcileRows: ReconcileRow[] = [];
const reconcileSizes = values["reconcile-sizes"]!.split(",").map(Number);
for (const n of sections.has("reconcile") ? reconcileSizes : []) {
  const running = await startSimulator({ seed: 1, counts: contactsOnly(n) });
  try {
    for (const program of programs) {
      const folder = join(work, "reconcile", `${n}-${reconcileRows.length}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(
        join(folder, "configuration.json"),
        JSON.stringify(
          simulatorConfig(running.url, { tables: "contacts", rate_limit_pause: PAUSE }),
        ),
      );
      // The destination already holds every id (as after a first sync): reconcile finds no gap.
      const db = new DatabaseSync(join(folder, "act.db"));
      db.exec(
        "CREATE TABLE contacts (id TEXT PRIMARY KEY NOT NULL, _act_synced TEXT, " +
          "_act_deleted INTEGER NOT NULL DEFAULT 0, _act_deleted_at TEXT)",
      );
      const insert = db.prepare("INSERT INTO contacts (id) VALUES (?)");
      db.exec("BEGIN");
      for (let i = 0; i < n; i++) insert.run(running.sim.idAt("contacts", i));
      db.exec("COMMIT");
      db.close();
      const before = running.sim.stats.requests;
      const run = await measure([...program.command, "reconcile", "contacts"], folder);
      if (run.code !== 0) throw new Error(`reconcile run failed: ${run.stderr}${run.stdout}`);
      const row = {
        program: program.name,
        n,
        requests: running.sim.stats.requests - before,
        ms: run.ms,
        peakMb: run.peakMb,
      };
      reconcileRows.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await running.close();
  }
}
rmSync(work, { recursive: true, force: true });

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${
  Math.round(totalmem() / 2 ** 30)
} GiB`;
const lines = [
  "# act-sync benchmark",
  "",
  `Command: \`bun scripts/bench.ts ${process.argv.slice(2).join(" ")}\``,
  `act-sync under test: \`${binary || "bun mod.ts"}\` · machine: ${machine} · ${
    new Date().toISOString()
  }`,
  "",
  "Contacts (~2 KB of JSON each) served by the in-process simulator; SQLite destination;",
  "rate_limit_pause 0. The plain client fetches the same pages and only JSON.parses them.",
  "",
  "| N | plain client rows/s | act-sync rows/s | ratio | act-sync peak RSS | plain peak RSS | requests | no-change run | 1% changed run | act-sync → PostgreSQL rows/s |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ...results.map((r) =>
    `| ${fmt(r.n)} | ${fmt(r.plainRps)} | ${fmt(r.syncRps)} | ${r.ratio.toFixed(2)}× | ${
      fmt(r.syncPeak)
    } MB | ${fmt(r.plainPeak)} MB | ${r.syncRequests} | ${
      (r.idleMs / 1000).toFixed(2)
    } s, ${r.idleRequests} req | ${(r.changedMs / 1000).toFixed(2)} s, ${
      fmt(r.changedRows)
    } rows, ${r.changedRequests} req | ${r.pgRps === null ? "not run" : fmt(r.pgRps)} |`
  ),
  "",
  "![rows/s and peak memory against N](results.svg)",
  "",
  ...(results.some((r) => r.baseline)
    ? [
      `First sync, same run: baseline (\`bun ${values.baseline}/mod.ts\`) and ` +
      `\`${binary || "bun mod.ts"}\`, batch_size ${batch}:`,
      "",
      "| N | baseline rows/s | ratio | peak RSS | act-sync rows/s | ratio | peak RSS |",
      "|---:|---:|---:|---:|---:|---:|---:|",
      ...results.filter((r) => r.baseline).map((r) =>
        `| ${fmt(r.n)} | ${fmt(r.baseline!.rps)} | ${r.baseline!.ratio.toFixed(2)}× | ${
          fmt(r.baseline!.peakMb)
        } MB | ${fmt(r.syncRps)} | ${r.ratio.toFixed(2)}× | ${fmt(r.syncPeak)} MB |`
      ),
      "",
    ]
    : []),
  ...(latencyRows.length
    ? [
      `First sync with every answer ${latencyMs} ms late, rate_limit_pause ${PAUSE} s, ` +
      `batch_size ${latencyBatch}; ideal = requests × max(latency, pause):`,
      "",
      "| program | N | requests | wall | ideal | wall / ideal | peak RSS |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...latencyRows.map((r) =>
        `| ${r.program} | ${fmt(r.n)} | ${r.requests} | ${(r.ms / 1000).toFixed(1)} s | ${
          (r.idealMs / 1000).toFixed(1)
        } s | ${(r.ms / r.idealMs).toFixed(2)}× | ${fmt(r.peakMb)} MB |`
      ),
      "",
    ]
    : []),
  ...(reconcileRows.length
    ? [
      `\`act-sync reconcile contacts\`, destination holding every id, rate_limit_pause ${PAUSE} s, ` +
      "batch_size 10000, no page cap:",
      "",
      "| program | ids | requests | wall | peak RSS |",
      "|---|---:|---:|---:|---:|",
      ...reconcileRows.map((r) =>
        `| ${r.program} | ${fmt(r.n)} | ${r.requests} | ${(r.ms / 1000).toFixed(1)} s | ${
          fmt(r.peakMb)
        } MB |`
      ),
      "",
    ]
    : []),
];
const parallelRows = sections.has("parallel")
  ? await benchParallel({
    sizes: values["parallel-sizes"]!.split(",").map(Number),
    compare: new Set(values["parallel-compare"]!.split(",").map(Number)),
    latencyMs,
    work,
    command: actSync,
    measure,
  })
  : [];
lines.push(...parallelLines(parallelRows, latencyMs));
mkdirSync(values.out!, { recursive: true });
writeFileSync(join(values.out!, "results.md"), lines.join("\n"));
if (results.length) writeFileSync(join(values.out!, "results.svg"), chart(results));
console.log(lines.join("\n"));

function chart(rows: Row[]): string {
  const w = 640, h = 320, left = 60, right = 60, top = 30, bottom = 40;
  const xs = rows.map((r) => Math.log10(r.n));
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1;
  const maxRps = Math.max(...rows.flatMap((r) => [r.plainRps, r.syncRps])) * 1.1;
  const maxMb = Math.max(300, ...rows.map((r) => r.syncPeak)) * 1.1;
  const px = (v: number) => left + ((v - x0) / ((x1 - x0) || 1)) * (w - left - right);
  const py = (v: number, max: number) => h - bottom - (v / max) * (h - top - bottom);
  const line = (pick: (r: Row) => number, max: number, color: string, dash = "") =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" ${
      dash ? `stroke-dasharray="${dash}"` : ""
    } points="${
      rows.map((r, i) => `${px(xs[i]).toFixed(1)},${py(pick(r), max).toFixed(1)}`).join(" ")
    }"/>` +
    rows.map((r, i) =>
      `<circle cx="${px(xs[i]).toFixed(1)}" cy="${
        py(pick(r), max).toFixed(1)
      }" r="3" fill="${color}"/>`
    ).join("");
  const ticks = rows.map((r, i) =>
    `<text x="${px(xs[i]).toFixed(1)}" y="${h - bottom + 16}" text-anchor="middle">${
      fmt(r.n)
    }</text>`
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="#999"/>
<line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="#999"/>
<line x1="${w - right}" y1="${top}" x2="${w - right}" y2="${h - bottom}" stroke="#999"/>
<text x="${left}" y="${top - 10}">rows/s (max ${fmt(maxRps)})</text>
<text x="${w - right}" y="${top - 10}" text-anchor="end">peak RSS MB (max ${fmt(maxMb)})</text>
<text x="${w / 2}" y="${h - 5}" text-anchor="middle">N (rows, log scale)</text>
${ticks}
${line((r) => r.plainRps, maxRps, "#888", "4 3")}
${line((r) => r.syncRps, maxRps, "#1f77b4")}
${line((r) => r.syncPeak, maxMb, "#d62728")}
<text x="${left + 10}" y="${top + 12}" fill="#888">plain client rows/s</text>
<text x="${left + 10}" y="${top + 26}" fill="#1f77b4">act-sync rows/s</text>
<text x="${left + 10}" y="${top + 40}" fill="#d62728">act-sync peak RSS</text>
</svg>
`;
}
