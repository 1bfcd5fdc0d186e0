/**
 * One sync run (`act-sync --once`, and each scheduled run of the service): lock, state, client,
 * sink, engine, summary.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { ActClient, type ResponseInfo } from "../act/client.ts";
import { createFetch } from "../act/tls.ts";
import { collectGarbage } from "../core/runtime.ts";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../core/log.ts";
import { escapeControl } from "../core/secrets.ts";
import { type State, writeState } from "../state/mod.ts";
import { formatTable, redactedState, withSession } from "./_session.ts";
import { type ProgressEvent, type RunResult, syncTables } from "../sync/engine.ts";
import type { TableName } from "../sync/tables.ts";
import { buildBaseUrl } from "../act/odata.ts";

/** What a run needs from outside. */
export interface RunDeps {
  logger: Logger;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
  /** Where the summary table goes (stdout). */
  stdout?: (text: string) => void;
  /** Progress lines (a terminal's stderr), or nothing. */
  progress?: (text: string) => void;
  /** Stop after the page being written. */
  signal?: AbortSignal;
  /** Injected fetch (tests); default honours `ca_file`/`tls_verify`. */
  fetch?: typeof fetch;
  /** Called for every HTTP attempt (metrics). */
  onResponse?: (info: ResponseInfo) => void;
  /** Called with each saved state (the service's /state). */
  onState?: (state: State) => void;
  /** Called with the rows written so far to the table being read (the service's status page). */
  onProgress?: (event: ProgressEvent) => void;
}

/** Options of one run. */
export interface RunOptions {
  /** Ignore cursors. @default {false} */
  fullRefresh?: boolean;
  /** Tables to sync. @default {config.tables} */
  tables?: readonly TableName[];
}

/** The outcome of {@linkcode runSync}. */
export interface SyncRun extends RunResult {
  /** Set when the run could not start (authentication, state file, destination). */
  error?: string;
  /** What was thrown when the run could not start (an AuthError: the login was refused). */
  failure?: unknown;
  startedAt: string;
  durationMs: number;
}

/** Create the Act! client for a configuration. */
export function createClient(
  config: Config,
  deps: Pick<RunDeps, "logger" | "fetch" | "onResponse" | "now">,
): ActClient {
  return new ActClient({
    baseUrl: buildBaseUrl(config),
    username: config.username,
    password: config.password,
    database: config.database_name,
    fetch: deps.fetch ??
      createFetch({ caFile: config.ca_file, tlsVerify: config.tls_verify, logger: deps.logger }),
    maxRetries: config.max_retries,
    timeoutMs: config.request_timeout_seconds * 1000,
    pauseMs: config.rate_limit_pause * 1000,
    logger: deps.logger,
    onResponse: deps.onResponse,
    ...(deps.now ? { now: deps.now } : {}),
  });
}

/**
 * Run one sync of the configured tables. Throws LockError when another run holds the lock;
 * other failures come back in the result (`ok: false`).
 */
export async function runSync(
  config: Config,
  options: RunOptions,
  deps: RunDeps,
): Promise<SyncRun> {
  const now = deps.now ?? Date.now;
  const started = now();
  const logger = deps.logger;
  const timing = () => ({
    startedAt: new Date(started).toISOString(),
    durationMs: now() - started,
  });
  return await withSession(
    config,
    { logger, signal: deps.signal, client: () => createClient(config, deps) },
    async ({ state, client, sink }) => {
      const printer = deps.progress ? progressPrinter(deps.progress, now) : undefined;
      const onProgress = deps.onProgress;
      const progress = printer && onProgress
        ? (event: ProgressEvent) => {
          printer(event);
          onProgress(event);
        }
        : printer ?? onProgress;
      const result = await syncTables(state, {
        tables: options.tables ?? config.tables,
        batchSize: config.batch_size,
        lookbackSeconds: config.lookback_seconds,
        defaultStartDate: config.default_start_date,
        fullRefresh: options.fullRefresh ?? false,
        endpoints: config.endpoints,
      }, {
        source: client,
        sink,
        logger,
        now,
        signal: deps.signal,
        onProgress: progress,
        afterPage: collectGarbage,
        saveState: (next) => {
          writeState(config.state_file, redactedState(next, logger.secrets));
          deps.onState?.(next);
        },
      });
      if (deps.progress) deps.progress("");
      return { ...result, ...timing() };
    },
    (error, state) => ({
      ok: false,
      tables: [],
      state: state ?? { table_cursors: {}, table_batch_tracking: {} },
      error: errorMessage(error),
      failure: error,
      ...timing(),
    }),
  );
}

function progressPrinter(
  write: (text: string) => void,
  now: () => number,
): (event: ProgressEvent) => void {
  let last = 0;
  return (event) => {
    const t = now();
    if (t - last < 250) return;
    last = t;
    const rate = event.elapsedMs > 0 ? Math.round(event.rows / (event.elapsedMs / 1000)) : 0;
    write(`\r${event.table}: ${event.rows.toLocaleString("en-US")} rows (${rate} rows/s)\x1b[K`);
  };
}

/** The summary table printed at the end of a run. */
export function formatSummary(run: SyncRun): string {
  const header = ["table", "rows read", "rows written", "new columns", "duration", "status"];
  const lines = run.tables.map((t) => [
    t.table,
    String(t.rowsRead),
    String(t.rowsWritten),
    String(t.newColumns.length),
    `${(t.durationMs / 1000).toFixed(1)} s`,
    t.status === "ok" ? "ok" : `${t.status}: ${escapeControl(t.error ?? "")}`,
  ]);
  const out = [formatTable(header, lines)];
  if (run.failSafe) out.push(`\n${run.failSafe}\n`);
  if (run.error) out.push(`Sync failed: ${escapeControl(run.error)}\n`);
  return out.join("");
}
