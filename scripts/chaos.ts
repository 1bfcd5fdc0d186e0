/**
 * The fault-injection suite: proves that the destination converges to exactly what Act! holds
 * whatever the server, the network or the host does.
 *
 * Each trial starts the simulator in this process, picks seeded faults, runs the real CLI
 * (`act-sync --once`, from source or the compiled binary) as a child process against it, SIGKILLs
 * it at random moments and reruns it until it exits 0, then runs once more without faults (rows
 * edited while a run pages legitimately arrive with the next run) and compares every table row by
 * row with the simulator's truth. Rows deleted in Act! are then reconciled (`act-sync reconcile`)
 * and the tables compared again, deleted rows included.
 *
 * Faults, alone and combined: SIGKILL mid-request, mid-transaction or mid-state-write; tokens
 * expiring every K requests; 429 with `Retry-After` in seconds, as a date, or none; 500–504
 * bursts; timeouts; dropped connections; malformed, truncated, HTML and wrong-shape bodies, a row
 * that is not JSON in a well-formed page; rows edited, inserted and deleted while the sync pages;
 * tie groups larger than a page (the simulator orders ties differently on every request); page
 * caps below `batch_size`, down to 1 row, and `batch_size` 1 to 3; the server clock five minutes
 * ahead of or behind the host's; the clock that stamps `edited` two or ten minutes ahead of or
 * behind the one writing the `Date` header; a `Date` header jumping to 2100 or 2001; the
 * destination locked by another program (the run fails naming the lock); a full disk (as root);
 * poison records (`_chaos_poison.ts`: each must be stored, or kept in `_act_rejected`).
 * Every trial draws `max_parallel_requests` from 1 to 8, and the open points of the report
 * collections (`scripts/_chaos_reports.ts`), line-item lists capped at 1 or 2 rows among them.
 *
 * ```sh
 * deno run -A scripts/chaos.ts --trials 300 --seed 1            # or: bun scripts/chaos.ts …
 * deno run -A scripts/chaos.ts --trials 2000 --seed 42 --binary dist/act-sync
 * ```
 *
 * Prints one line per trial and a summary; exits 1 when any row was lost, duplicated or stale.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { DatabaseSync } from "node:sqlite";
import {
  type Fault,
  type RunningSimulator,
  simulatorConfig,
  startSimulator,
} from "../src/simulator/mod.ts";
import { flattenRecord } from "../src/sync/flatten.ts";
import type { TableName } from "../src/act/tables.ts";
import { type ColumnType, plainName } from "../src/sink/sink.ts";
import * as reports from "./_chaos_reports.ts";
import * as poison from "./_chaos_poison.ts";
import { type ChildResult, RUN_TIMEOUT_MS, runCli, sourceCommand } from "./_chaos_cli.ts";

/** Options of {@linkcode runChaos}. */
export interface ChaosOptions {
  /** Number of trials. */
  trials: number;
  /** Seed of the first trial; trial i uses `seed + i`. */
  seed: number;
  /** Compiled binary to run on every other trial (the others run from source). */
  binary?: string;
  /** Contacts per trial (other tables scale from it). @default {80} */
  records?: number;
  /** Every how many trials the destination-lock check runs (0: never). @default {8} */
  lockEvery?: number;
  /** Every how many trials the disk-full check runs, when tmpfs can be mounted (0: never). @default {16} */
  diskFullEvery?: number;
  /** Where each trial line goes. @default {console.log} */
  log?: (line: string) => void;
}

/** The outcome of one trial. */
export interface TrialResult {
  trial: number;
  seed: number;
  /** The faults injected, in words. */
  faults: string[];
  /** CLI runs (sync and reconcile) and the exit code (or signal) of each. */
  runs: string[];
  kills: number;
  /** Rows Act! holds that the destination lacks (before and after reconcile). */
  lost: number;
  /** Ids present more than once in a destination table. */
  duplicated: number;
  /** Rows whose values differ from Act!'s. */
  stale: number;
  /** Live rows in the destination that Act! never had or deleted (after reconcile). */
  extra: number;
  /** Problems other than row counts (a run that never succeeded, a failed destination check). */
  problems: string[];
  ms: number;
}

/** The outcome of {@linkcode runChaos}. */
export interface ChaosSummary {
  ok: boolean;
  trials: TrialResult[];
  lost: number;
  duplicated: number;
  stale: number;
  extra: number;
  problems: number;
  kills: number;
  runs: number;
}

const MAX_ATTEMPTS = 12;

/** Run the trials; never throws for a failed trial (it is counted). */
export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const log = options.log ?? console.log;
  const work = mkdtempSync(join(tmpdir(), "act-sync-chaos-"));
  const trials: TrialResult[] = [];
  try {
    for (let i = 0; i < options.trials; i++) {
      const result = await runTrial(i, options, join(work, `t${i}`));
      trials.push(result);
      log(formatTrial(result));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const sum = (f: (t: TrialResult) => number) => trials.reduce((n, t) => n + f(t), 0);
  const summary: ChaosSummary = {
    ok: false,
    trials,
    lost: sum((t) => t.lost),
    duplicated: sum((t) => t.duplicated),
    stale: sum((t) => t.stale),
    extra: sum((t) => t.extra),
    problems: sum((t) => t.problems.length),
    kills: sum((t) => t.kills),
    runs: sum((t) => t.runs.length),
  };
  summary.ok = summary.lost + summary.duplicated + summary.stale + summary.extra +
      summary.problems === 0;
  return summary;
}

/** One line per trial. */
export function formatTrial(t: TrialResult): string {
  return `trial ${t.trial} seed ${t.seed}: faults [${t.faults.join(", ")}] runs ${t.runs.length} ` +
    `(${t.runs.join(" ")}) kills ${t.kills} lost ${t.lost} duplicated ${t.duplicated} ` +
    `stale ${t.stale} extra ${t.extra}${
      t.problems.length ? ` PROBLEMS: ${t.problems.join("; ")}` : ""
    } (${(t.ms / 1000).toFixed(1)} s)`;
}

/** The closing summary. */
export function formatSummary(s: ChaosSummary): string {
  return `${s.trials.length} trials, ${s.runs} CLI runs, ${s.kills} kills: lost ${s.lost}, ` +
    `duplicated ${s.duplicated}, stale ${s.stale}, extra ${s.extra}, problems ${s.problems}: ` +
    (s.ok ? "OK" : "FAILED");
}

/** mulberry32: a small seeded generator. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Plan {
  faults: string[];
  batchSize: number;
  /** `max_parallel_requests` of the runs. */
  parallel: number;
  /** Data-request numbers (counted over the trial) at which a fault is injected, once. */
  injections: { at: number; fault: Fault }[];
  /** Kill after this data request (and a delay in ms), per attempt; empty = no kill. */
  kills: { at: number; delayMs: number }[];
  /** Per data request: probability of a mutation. */
  mutationRate: number;
  /** The data request (counted over the trial) whose `Date` header jumps to `to`, once. */
  dateJump: { at: number; to: number } | null;
  lock: boolean;
  diskFull: boolean;
  binary: boolean;
}

function plan(
  rnd: () => number,
  trial: number,
  options: ChaosOptions,
  sw: RunningSimulator["sim"]["switches"],
): Plan {
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const chance = (p: number) => rnd() < p;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const faults: string[] = [];
  const batchSize = chance(0.1) ? int(1, 3) : int(8, 60);
  faults.push(`batch ${batchSize}`);
  const parallel = int(1, 8);
  faults.push(`parallel ${parallel}`);
  if (chance(0.5)) {
    sw.pageCap = chance(0.2) ? int(1, 2) : int(3, Math.max(3, batchSize - 1));
    faults.push(`page cap ${sw.pageCap}`);
  }
  if (chance(0.3)) {
    sw.tokenMaxRequests = int(2, 12);
    faults.push(`token expires every ${sw.tokenMaxRequests}`);
  }
  if (chance(0.3)) {
    sw.clockSkewSeconds = pick([-300, 300]);
    faults.push(`server clock ${sw.clockSkewSeconds > 0 ? "+" : ""}${sw.clockSkewSeconds} s`);
  }
  if (chance(0.3)) {
    sw.stampSkewSeconds = pick([-600, -120, 120, 600]);
    const side = sw.stampSkewSeconds > 0 ? "+" : "";
    faults.push(`stamping clock ${side}${sw.stampSkewSeconds} s from the Date header`);
  }
  let dateJump: Plan["dateJump"] = null;
  if (chance(0.25)) {
    dateJump = { at: int(1, 60), to: pick([Date.UTC(2100, 0, 1), Date.UTC(2001, 0, 1)]) };
    faults.push(`Date header ${new Date(dateJump.to).getUTCFullYear()} @${dateJump.at}`);
  }
  if (chance(0.2)) {
    sw.multiKeyOrderBy = true;
    faults.push("multi-key orderby");
  }
  if (chance(0.15)) {
    sw.productsFilter = false;
    faults.push("products without $filter");
  }
  reports.reportSwitches(sw, chance, faults);
  const injections: Plan["injections"] = [];
  const count = chance(0.75) ? int(1, 4) : 0;
  for (let i = 0; i < count; i++) {
    const at = int(1, 80);
    const kind = pick(
      [
        "status",
        "rate-limit",
        "timeout",
        "drop",
        "malformed",
        "truncated",
        "html",
        "object",
        "bad-row",
        "expire-token",
      ] as const,
    );
    let fault: Fault;
    let text: string;
    switch (kind) {
      case "status": {
        const status = pick([500, 502, 503, 504]);
        const times = int(1, 2);
        fault = { kind, status, times };
        text = `${status}×${times}`;
        break;
      }
      case "rate-limit": {
        const retryAfter = pick(["seconds", "date", "none"] as const);
        const times = retryAfter === "none" ? int(1, 2) : int(2, 4);
        fault = { kind, retryAfter, seconds: 0, times };
        text = `429 storm×${times} (Retry-After ${retryAfter})`;
        break;
      }
      case "timeout":
        fault = { kind: "slow", ms: 1500 };
        text = "timeout";
        break;
      default:
        fault = { kind } as Fault;
        text = kind;
    }
    injections.push({ at, fault });
    faults.push(`${text} @${at}`);
  }
  const kills: Plan["kills"] = [];
  if (chance(0.5)) {
    const n = int(1, 3);
    for (let i = 0; i < n; i++) kills.push({ at: int(1, 30), delayMs: int(0, 25) });
    faults.push(`SIGKILL×${n}`);
  }
  const mutationRate = chance(0.5) ? pick([0.05, 0.15, 0.3]) : 0;
  if (mutationRate) faults.push(`mutations ${mutationRate}`);
  const lockEvery = options.lockEvery ?? 8;
  const fullEvery = options.diskFullEvery ?? 16;
  const lock = lockEvery > 0 && trial % lockEvery === 1;
  const diskFull = fullEvery > 0 && trial % fullEvery === 5;
  const binary = options.binary !== undefined && trial % 2 === 1;
  if (binary) faults.push("binary");
  return {
    faults,
    batchSize,
    parallel,
    injections,
    kills,
    mutationRate,
    dateJump,
    lock,
    diskFull,
    binary,
  };
}

function outcome(r: ChildResult): string {
  return r.signal ? r.signal : String(r.code);
}

async function runTrial(
  trial: number,
  options: ChaosOptions,
  folder: string,
): Promise<TrialResult> {
  const started = Date.now();
  const seed = options.seed + trial;
  const rnd = random(seed * 2654435761);
  const running = await startSimulator({ records: options.records ?? 80, seed });
  const sim = running.sim;
  const p = plan(rnd, trial, options, sim.switches);
  const planted = poison.plant(sim, rnd, p.faults);
  const result: TrialResult = {
    trial,
    seed,
    faults: p.faults,
    runs: [],
    kills: 0,
    lost: 0,
    duplicated: 0,
    stale: 0,
    extra: 0,
    problems: [],
    ms: 0,
  };
  let mounted: string | null = null;
  try {
    mkdirSync(folder, { recursive: true });
    let dbFolder = folder;
    if (p.diskFull) {
      mounted = mountTmpfs(join(folder, "small"));
      if (mounted) {
        dbFolder = mounted;
        p.faults.push("disk full");
      }
    }
    const db = join(dbFolder, "act.db");
    const statePath = join(folder, "state.json");
    const config = join(folder, "configuration.json");
    writeFileSync(
      config,
      JSON.stringify(simulatorConfig(running.url, {
        batch_size: p.batchSize,
        max_parallel_requests: p.parallel,
        max_retries: 8,
        request_timeout_seconds: 1,
        destination: `sqlite:${db}`,
        state_file: statePath,
        ...reports.TRIAL_CONFIG,
      })),
    );
    const removed = new Map<TableName, Set<string>>();
    const command = p.binary ? [options.binary!] : sourceCommand();
    const cli = async (args: string[], kill?: Plan["kills"][number]): Promise<ChildResult> => {
      let requests = 0;
      let killer: (() => void) | null = null;
      const unsubscribe = sim.onRequest(() => {
        requests++;
        // Each injected fault fires once per trial, at a data request counted across runs.
        for (const injection of p.injections) {
          if (injection.at === sim.stats.dataRequests) sim.inject(injection.fault);
        }
        if (p.dateJump?.at === sim.stats.dataRequests) sim.switches.dateJumpTo = p.dateJump.to;
        if (kill && requests === kill.at && killer) {
          const k = killer;
          setTimeout(k, kill.delayMs);
        }
        if (p.mutationRate > 0 && rnd() < p.mutationRate) mutate(sim, rnd, removed);
      });
      try {
        const r = await runCli(command, [...args, "--config", config], (k) => killer = k);
        result.runs.push(`${args[0] === "reconcile" ? "R" : ""}${outcome(r)}`);
        if (r.signal === "SIGKILL") result.kills++;
        if (r.signal === "TIMEOUT") {
          result.problems.push(
            `${args[0]} hung for ${RUN_TIMEOUT_MS / 1000} s: ${lastLine(r.stderr)}`,
          );
        }
        return r;
      } finally {
        unsubscribe();
      }
    };
    // A tie group larger than a page, before the first run (ordered differently per request).
    if (rnd() < 0.4) {
      const table = rnd() < 0.5 ? "contacts" : "activities";
      const ids = sim.rows(table).slice(0, 30 + Math.floor(rnd() * 60)).map((r) => String(r.id));
      sim.touch(table, ids);
      p.faults.push(`tie group ${ids.length} ${table}`);
    }

    // Faulty runs until one exits 0.
    let ok = false;
    for (let attempt = 0; attempt < MAX_ATTEMPTS + p.kills.length && !ok; attempt++) {
      const r = await cli(["--once"], p.kills[attempt]);
      if (r.code === 0) ok = true;
      else if (r.code === 2) {
        result.problems.push(`usage error: ${lastLine(r.stderr)}`);
        break;
      }
    }
    if (!ok) result.problems.push("no run succeeded");

    // Destination faults: the run fails with a clear message and the cursor does not move.
    p.injections = [];
    p.mutationRate = 0;
    if (ok && p.lock) await lockCheck(sim, db, statePath, cli, result, "lock", null);
    if (ok && mounted) await lockCheck(sim, db, statePath, cli, result, "full", mounted);

    // A clean run picks up rows edited during the faulty ones (and a healed record).
    poison.healOne(sim, planted, rnd, p.faults);
    const clean = await cli(["--once"]);
    if (clean.code !== 0) {
      result.problems.push(`clean run exit ${outcome(clean)}: ${lastLine(clean.stderr)}`);
    }

    // Before reconcile: every row Act! holds is there and current (deleted ones may linger).
    compare(sim, db, removed, result, false, planted);
    const reconcile = await cli(["reconcile"]);
    if (reconcile.code !== 0) {
      result.problems.push(
        `reconcile exit ${outcome(reconcile)}: ${lastLine(reconcile.stdout + reconcile.stderr)}`,
      );
    }
    // After reconcile: exactly Act!'s rows are live, the deleted ones are marked.
    compare(sim, db, removed, result, true, planted);
  } catch (error) {
    result.problems.push(`trial crashed: ${error instanceof Error ? error.stack : error}`);
  } finally {
    await running.close();
    if (mounted) unmount(mounted);
  }
  result.ms = Date.now() - started;
  return result;
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1]?.slice(0, 300) ?? "";
}

/** Edit, insert or delete a row, or stamp a tie group, while a run pages. */
function mutate(
  sim: RunningSimulator["sim"],
  rnd: () => number,
  removed: Map<TableName, Set<string>>,
): void {
  if (rnd() < 0.35) return reports.mutateReports(sim, rnd, removed); // history, groups, line items
  const tables: TableName[] = ["contacts", "companies", "opportunities", "activities", "products"];
  const table = tables[Math.floor(rnd() * tables.length)];
  const rows = sim.rows(table);
  if (rows.length === 0) return;
  const row = rows[Math.floor(rnd() * rows.length)];
  const id = String(row.id);
  const r = rnd();
  if (r < 0.5) {
    sim.edit(table, id, table === "products" ? { name: `chaos ${r}` } : {});
  } else if (r < 0.75) {
    sim.insert(table);
  } else if (r < 0.95) {
    // Keep deletions well below max_delete_fraction (reconcile must not refuse them).
    if ((removed.get(table)?.size ?? 0) < rows.length / 8) {
      if (table === "opportunities") reports.removeOpportunityItems(sim, id, removed);
      sim.remove(table, id);
      if (!removed.has(table)) removed.set(table, new Set());
      removed.get(table)!.add(id);
    }
  } else {
    const start = Math.floor(rnd() * rows.length);
    sim.touch(table, rows.slice(start, start + 40).map((x) => String(x.id)));
  }
}

/** Compare every table with the simulator; adds to the trial's counts. */
function compare(
  sim: RunningSimulator["sim"],
  db: string,
  removed: Map<TableName, Set<string>>,
  result: TrialResult,
  exact: boolean,
  planted: poison.Planted,
): void {
  const conn = new DatabaseSync(db, { readOnly: true });
  const rejected = poison.rejectedKeys(conn);
  const unstorable = poison.unstorable(planted);
  try {
    for (const table of reports.TRIAL_TABLES) {
      // Line items changed without a bump show only after reconcile (docs/tables.md).
      const late = table === "opportunity_products" && !sim.switches.lineItemsBumpOpportunity;
      if (late && !exact) continue;
      const exists = conn.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?")
        .get(table);
      const rows = exists ? poison.readRows(conn, table) : [];
      const byId = new Map<string, Record<string, unknown>>();
      for (const row of rows) {
        const id = String(row.id);
        if (byId.has(id)) result.duplicated++;
        byId.set(id, row);
      }
      const types = new Map<string, ColumnType>();
      const truth = new Set<string>();
      for (const record of sim.rows(table)) {
        const expected = flattenRecord(record, types);
        truth.add(expected.id);
        if (poison.rejectedOnly(`${table}\t${expected.id}`, unstorable, rejected, result)) continue;
        const actual = byId.get(expected.id);
        if (!actual || actual._act_deleted !== 0) {
          result.lost++;
          result.problems.push(`${table} ${expected.id} lost${exact ? " after reconcile" : ""}`);
          continue;
        }
        for (const [path, value] of Object.entries(expected)) {
          const column = plainName(path);
          const got = actual[column] ?? null;
          const want = typeof value === "boolean" ? (value ? 1 : 0) : value;
          if (got !== want && String(got) !== String(want)) {
            result.stale++;
            result.problems.push(`${table} ${expected.id} stale: ${column}`);
            break;
          }
        }
      }
      for (const [id, row] of byId) {
        if (truth.has(id) || row._act_deleted !== 0) continue;
        if (exact || !removed.get(table)?.has(id)) {
          result.extra++;
          result.problems.push(`${table} ${id} live in the destination but not in Act!`);
        }
      }
    }
    reports.compareLinks(sim, conn, result, unstorable);
  } finally {
    conn.close();
  }
}

/**
 * Hold the destination (a write lock by another connection, or a full disk), edit contacts, run:
 * it must exit 1 with a clear message and leave the contacts cursor where it was.
 */
async function lockCheck(
  sim: RunningSimulator["sim"],
  db: string,
  statePath: string,
  cli: (args: string[]) => Promise<ChildResult>,
  result: TrialResult,
  kind: "lock" | "full",
  mounted: string | null,
): Promise<void> {
  for (const row of sim.rows("contacts").slice(0, 3)) sim.edit("contacts", String(row.id));
  const before = JSON.parse(readFileSync(statePath, "utf8"));
  let holder: DatabaseSync | null = null;
  let filler: string | null = null;
  if (kind === "lock") {
    holder = new DatabaseSync(db);
    holder.exec("BEGIN IMMEDIATE");
  } else {
    filler = join(mounted!, "filler");
    fill(filler);
  }
  try {
    const r = await cli(["--once", "--tables", "contacts"]);
    const text = r.stdout + r.stderr;
    const after = JSON.parse(readFileSync(statePath, "utf8"));
    // SQLite reports a full disk at open time as "disk I/O error" (it cannot create the -shm file).
    const pattern = kind === "lock" ? /lock/i : /full|disk I\/O error/i;
    if (r.code !== 1) result.problems.push(`${kind}: exit ${outcome(r)}, expected 1`);
    if (!pattern.test(text)) result.problems.push(`${kind}: no clear message: ${lastLine(text)}`);
    if (after.table_cursors.contacts !== before.table_cursors.contacts) {
      result.problems.push(`${kind}: the contacts cursor moved`);
    }
    result.faults.push(kind === "lock" ? "destination locked" : "disk full checked");
  } finally {
    if (holder) {
      holder.exec("ROLLBACK");
      holder.close();
    }
    if (filler) rmSync(filler, { force: true });
  }
}

/** Fill the file system holding `path` (bounded). */
function fill(path: string): void {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(16 * 1024);
  try {
    for (let i = 0; i < 4096; i++) writeSync(fd, chunk);
  } catch {
    /* ENOSPC: full */
  } finally {
    closeSync(fd);
  }
}

/**
 * Mount a 16 MiB tmpfs (root on Linux only); null when that is not possible here. Room for the
 * WAL of a run committing one row per page (`batch_size` 1 grows it to about 4 MiB before a
 * checkpoint); the disk-full check fills the rest.
 */
function mountTmpfs(path: string): string | null {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return null;
  mkdirSync(path, { recursive: true });
  const { status } = spawnSyncSafe("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", path]);
  return status === 0 ? path : null;
}

function unmount(path: string): void {
  spawnSyncSafe("umount", [path]);
}

function spawnSyncSafe(command: string, args: string[]): { status: number | null } {
  try {
    return spawnSync(command, args, { stdio: "ignore" });
  } catch {
    return { status: null };
  }
}

/** The CLI of the script; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      trials: { type: "string", default: "50" },
      seed: { type: "string", default: "1" },
      binary: { type: "string" },
      records: { type: "string", default: "80" },
    },
    strict: true,
  });
  const trials = Number(values.trials);
  const seed = Number(values.seed);
  if (!Number.isInteger(trials) || trials < 1) {
    console.error(`'--trials' must be a positive integer: current value is "${values.trials}"`);
    return 2;
  }
  if (values.binary && !existsSync(values.binary)) {
    console.error(`Cannot find the binary: current value is "${values.binary}"`);
    return 2;
  }
  const summary = await runChaos({
    trials,
    seed,
    binary: values.binary,
    records: Number(values.records),
  });
  console.log(formatSummary(summary));
  return summary.ok ? 0 : 1;
}

if (import.meta.main) process.exit(await main(process.argv.slice(2)));
