/** Shared test helpers: temp folders, truth comparison between the simulator and a database. */
import { RUNTIME } from "../src/core/runtime.ts";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { flattenRecord } from "../src/sync/flatten.ts";
import { formatUtc } from "../src/core/time.ts";
import { plainName } from "../src/sink/sink.ts";
import { isDeepStrictEqual } from "node:util";
import type { ColumnType } from "../src/sink/sink.ts";
import type { TableName } from "../src/act/tables.ts";
import { ActClient, type ActClientOptions } from "../src/act/client.ts";
import { type Config, parseConfig } from "../src/config/mod.ts";
import { simulatorConfig } from "../src/simulator/mod.ts";
import { createServer } from "node:net";
import { silentLogger } from "../src/core/log.ts";
import { openSink, type OpenSinkOptions } from "../src/sink/mod.ts";
import type { Sink } from "../src/sink/sink.ts";
import { readState, type State, writeState } from "../src/state/mod.ts";
import {
  type EngineDeps,
  type RunResult,
  type SyncOptions,
  syncTables,
} from "../src/sync/engine.ts";

/** A fresh temp folder. */
export function tempDir(prefix = "act-sync-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Rows of a SQLite table (not deleted), keyed by id; empty when the table is missing. */
export function sqliteRows(path: string, table: string): Map<string, Record<string, unknown>> {
  const db = new DatabaseSync(path);
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?").get(
      table,
    );
    if (!exists) return new Map();
    const rows = db.prepare(`SELECT * FROM "${table}" WHERE _act_deleted = 0`).all() as Record<
      string,
      unknown
    >[];
    return new Map(rows.map((r) => [String(r.id), { ...r }]));
  } finally {
    db.close();
  }
}

/** The number of rows in a SQLite table, rows marked deleted included (a duplicate id adds one). */
export function sqliteCount(path: string, table: string): number {
  const db = new DatabaseSync(path);
  try {
    return Number((db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n);
  } finally {
    db.close();
  }
}

/**
 * Whether a destination value equals a flattened one, whatever the destination's types:
 * SQLite's 0/1 and text, PostgreSQL's booleans, Dates (timestamptz), bigint strings and jsonb.
 */
export function sameValue(got: unknown, want: unknown): boolean {
  if (got === undefined) got = null;
  if (got === want) return true;
  if (got === null || want === null) return false;
  if (typeof want === "boolean") return got === (want ? 1 : 0) || String(got) === String(want);
  if (got instanceof Date) return formatUtc(got.getTime()) === want;
  if (typeof got === "object") {
    try {
      return isDeepStrictEqual(got, JSON.parse(String(want)));
    } catch {
      return false;
    }
  }
  return String(got) === String(want);
}

/**
 * Assert that `rows` (from the destination, keyed by id) hold exactly `truth` (the simulator's
 * records): same ids, and every flattened value equal. The first failure names the table and up
 * to five lost and extra ids, or the first column whose value differs.
 */
export function assertMirrors(
  table: TableName,
  truth: Record<string, unknown>[],
  rows: Map<string, Record<string, unknown>>,
): void {
  const expectedIds = new Set(truth.map((r) => String(r.id)));
  const lost = [...expectedIds].filter((id) => !rows.has(id));
  const extra = [...rows.keys()].filter((id) => !expectedIds.has(id));
  assert.deepEqual(
    { table, lost: lost.slice(0, 5), lostCount: lost.length, extra: extra.slice(0, 5) },
    { table, lost: [], lostCount: 0, extra: [] },
  );
  const types = new Map<string, ColumnType>();
  for (const record of truth) {
    const expected = flattenRecord(record, types);
    const actual = rows.get(expected.id)!;
    for (const [path, want] of Object.entries(expected)) {
      const column = plainName(path);
      const got = actual[column] ?? null;
      if (!sameValue(got, want)) {
        assert.fail(
          `${table} ${expected.id}: column ${column} is ${JSON.stringify(got)}, ` +
            `expected ${JSON.stringify(want)}`,
        );
      }
    }
  }
}

/** The command that runs the CLI from source under the current runtime. */
export function cliCommand(): string[] {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const mod = join(root, "mod.ts");
  const bun = RUNTIME === "bun";
  return bun ? [process.execPath, mod] : [process.execPath, "run", "-A", mod];
}

/** The result of {@linkcode runCliProcess}. */
export interface CliResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A CLI child process started by {@linkcode spawnCli}. */
export interface CliProcess {
  child: ChildProcess;
  /** Resolves when it ended (killed with SIGKILL after `timeoutMs`). */
  exit: Promise<CliResult>;
  /** Resolves once stderr matches `pattern`; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<void>;
}

/** The one CLI spawner: the CLI from source in a child process, under the current runtime. */
export function spawnCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): CliProcess {
  const [command, ...prefix] = cliCommand();
  const child = spawn(command, [...prefix, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on("data", (chunk) => stdout += chunk);
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
    for (const w of watchers.filter((w) => w.pattern.test(stderr))) w.resolve();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const exit = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    exit,
    waitFor(pattern: RegExp): Promise<void> {
      if (pattern.test(stderr)) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      watchers.push({ pattern, resolve });
      return Promise.race([
        promise,
        exit.then((r) =>
          Promise.reject(new Error(`exited ${r.code} before ${pattern}: ${r.stderr}`))
        ),
      ]);
    },
  };
}

/** Run the CLI in a child process (asynchronously, so in-process servers keep answering). */
export function runCliProcess(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return spawnCli(args, options).exit;
}

/**
 * The one simulator-config builder of the tests: the parsed configuration for a simulator's base
 * URL (default credentials, `rate_limit_pause` 0), `extra` keys over it, relative paths against
 * `baseDir`.
 */
export function configForSimulator(
  baseUrl: string,
  extra: Record<string, unknown> = {},
  baseDir = ".",
): Config {
  return parseConfig(simulatorConfig(baseUrl, extra), { baseDir }).config;
}

/** A client for a simulator's base URL (default credentials), with no pauses or waits. */
export function simulatorClient(
  baseUrl: string,
  options: Partial<ActClientOptions> = {},
): ActClient {
  return new ActClient({
    baseUrl,
    username: "demo",
    password: "demo",
    database: "ActDemo",
    pauseMs: 0,
    sleep: () => Promise.resolve(),
    ...options,
  });
}

/** A port nothing listens on (bound on 127.0.0.1, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** How {@linkcode syncOnce} runs: the engine's options and deps, with test defaults. */
export interface SyncOnceOptions extends Partial<SyncOptions>, Partial<Omit<EngineDeps, "sink">> {
  tables: readonly TableName[];
  source: EngineDeps["source"];
  /** Wrap the opened sink (e.g. to drop or fail writes). */
  wrap?: (sink: Sink) => Sink;
  /** Options of {@linkcode openSink} (a logger for the sink's warnings). */
  sinkOptions?: OpenSinkOptions;
}

/**
 * One sync run into `destination` with its state in `statePath`: opens the sink, runs the engine
 * (batch 50, lookback 60 s, silent, real clock unless given), closes the sink.
 */
export async function syncOnce(
  destination: string,
  statePath: string,
  options: SyncOnceOptions,
): Promise<RunResult> {
  const { wrap, sinkOptions, tables, batchSize, lookbackSeconds, fullRefresh, ...rest } = options;
  const { maxParallelRequests, ...deps } = rest;
  const sink = await openSink(destination, sinkOptions);
  try {
    return await syncTables(readState(statePath), {
      tables,
      batchSize: batchSize ?? 50,
      lookbackSeconds: lookbackSeconds ?? 60,
      defaultStartDate: "1900-01-01T00:00:00Z",
      fullRefresh,
      maxParallelRequests,
    }, {
      logger: silentLogger(),
      now: Date.now,
      saveState: (state: State) => writeState(statePath, state),
      ...deps,
      sink: wrap ? wrap(sink) : sink,
    });
  } finally {
    await sink.close();
  }
}
