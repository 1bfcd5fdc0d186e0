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
import { fieldRulesOf, formatTable, redactedState, refusedRun, withSession } from "./_session.ts";
import { type ProgressEvent, type RunResult, syncTables } from "../sync/engine.ts";
import { buildBaseUrl } from "../act/odata.ts";
import { progressReporter } from "./progress.ts";
import { publishSnapshot } from "./publish.ts";

/** What a run needs from outside. */
export interface RunDeps {
  logger: Logger;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
  /** Where the summary table goes (stdout). */
  stdout?: (text: string) => void;
  /** Progress lines on a terminal (its stderr); without it, progress goes to the log. */
  progress?: (text: string) => void;
  /** Stop after the page being written. */
  signal?: AbortSignal;
  /** Injected fetch (tests); default honours `ca_file`/`tls_verify`. */
  fetch?: typeof fetch;
  /** Called for every HTTP attempt (metrics). */
  onResponse?: (info: ResponseInfo) => void;
  /** Called when an HTTP attempt to the Act! Web API is sent. */
  onRequest?: () => void;
  /** Called with each saved state (the service's /state). */
  onState?: (state: State) => void;
  /** Called with the rows written so far to the table being read (the service's status page). */
  onProgress?: (event: ProgressEvent) => void;
}

/** Options of one run. */
export interface RunOptions {
  /** Ignore cursors. @default {false} */
  fullRefresh?: boolean;
  /** Tables to sync: a `tables` selection (see `SyncOptions.tables`). @default {config.tables} */
  tables?: readonly string[];
}

/** The outcome of {@linkcode runSync}. */
export interface SyncRun extends RunResult {
  /** Set when the run could not start (authentication, state file, destination). */
  error?: string;
  /** What was thrown when the run could not start (an AuthError: the login was refused). */
  failure?: unknown;
  startedAt: string;
  durationMs: number;
  /** The destination, without password (`sink.description`); unset when it was not opened. */
  destination?: string;
  /** How many tables the run was to sync (those never started are not in `tables`). */
  planned?: number;
  /** Stopped by request (Ctrl+C, `act-sync stop`) before every table was synced. */
  stopped?: boolean;
  /** Why `publish_to` got no snapshot (a WARNING; the run still succeeded). */
  publishError?: string;
}

/** Create the Act! client for a configuration. */
export function createClient(
  config: Config,
  deps: Pick<RunDeps, "logger" | "fetch" | "onResponse" | "onRequest" | "now">,
): ActClient {
  return new ActClient({
    baseUrl: buildBaseUrl(config),
    username: config.username,
    password: config.password,
    database: config.database_name,
    fetch: deps.fetch ??
      createFetch({
        caFile: config.ca_file,
        tlsVerify: config.tls_verify,
        logger: deps.logger,
        connectTimeoutMs: config.connect_timeout_seconds * 1000,
      }),
    maxRetries: config.max_retries,
    timeoutMs: config.request_timeout_seconds * 1000,
    pauseMs: config.rate_limit_pause * 1000,
    maxParallel: config.max_parallel_requests,
    logger: deps.logger,
    onResponse: deps.onResponse,
    onRequest: deps.onRequest,
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
  return await withSession<SyncRun>(
    config,
    { logger, signal: deps.signal, client: () => createClient(config, deps) },
    async ({ state, client, sink }) => {
      const printer = progressReporter({ tty: deps.progress, logger, now });
      const onProgress = deps.onProgress;
      const progress = (event: ProgressEvent) => {
        printer.report(event);
        onProgress?.(event);
      };
      const tables = options.tables ?? config.tables;
      const result = await syncTables(state, {
        tables,
        batchSize: config.batch_size,
        lookbackSeconds: config.lookback_seconds,
        defaultStartDate: config.default_start_date,
        fullRefresh: options.fullRefresh ?? false,
        endpoints: config.endpoints,
        fields: fieldRulesOf(config),
        maxDeleteFraction: config.max_delete_fraction,
        maxParallelRequests: config.max_parallel_requests,
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
      printer.done();
      // The snapshot is taken under the run's lock, so no other run writes meanwhile.
      const publishError = result.ok ? publishSnapshot(config, logger, now) : undefined;
      const run: SyncRun = {
        ...result,
        ...(client.refusal ? refusedRun(client.refusal) : {}),
        destination: sink.description,
        planned: tables.length,
        ...(publishError !== undefined ? { publishError } : {}),
        ...(deps.signal?.aborted && !result.ok ? { stopped: true } : {}),
        ...timing(),
      };
      return run;
    },
    (error, state) => ({
      ok: false,
      tables: [],
      state: state ?? { table_cursors: {}, table_batch_tracking: {} },
      // A stop requested while logging in or opening the destination is a stop, not a failure.
      ...(deps.signal?.aborted
        ? { stopped: true, planned: (options.tables ?? config.tables).length }
        : { error: errorMessage(error), failure: error }),
      ...timing(),
    }),
  );
}

/**
 * What a stopped run did, for the summary and the log (null unless it was stopped): "stopped by
 * request after N of M tables: the next run resumes…", and the tables that failed, if any.
 */
export function stopNote(run: SyncRun): string | null {
  if (!run.stopped) return null;
  const done = run.tables.filter((t) => t.status === "ok").length;
  const failed = run.tables.filter((t) => t.status === "failed");
  const planned = run.planned ?? run.tables.length;
  return `stopped by request after ${done} of ${planned} tables: ` +
    `the next run resumes where this one stopped` +
    (failed.length > 0
      ? `; ${failed.length} failed (${
        failed.map((t) => `${t.table}: ${t.error ?? t.status}`).join("; ")
      }): the next run retries ${failed.length === 1 ? "it" : "them"}`
      : "");
}

/** Why the summary's read and written differ, printed below it when they do. */
export const READ_VS_WRITTEN = "(read counts every record received, also those read again: the " +
  "'lookback_seconds' overlap, a window read again after the server moved rows, the parent " +
  "records of line items; written counts the rows stored, a record read twice in a page once)\n";

/** Summary errors longer than this go below the table, which says "failed (see below)". */
const INLINE_ERROR = 40;

/**
 * The summary printed at the end of a run: a table per table (rows read, rows written, and of
 * those: new ids, updated rows, rows re-read unchanged), a totals line with the elapsed time
 * and the destination, then the errors too long for the table and, for a stopped run, how far it
 * got.
 */
export function formatSummary(run: SyncRun): string {
  const header = [
    "table",
    "read",
    "written",
    "new",
    "updated",
    "unchanged",
    "new columns",
    "duration",
    "status",
  ];
  const below: string[] = [];
  const lines = run.tables.map((t) => {
    let status: string = t.status;
    if (t.status === "failed") {
      const error = escapeControl(t.error ?? "");
      if (error.length <= INLINE_ERROR) status = error ? `${t.status}: ${error}` : t.status;
      else {
        status = `${t.status} (see below)`;
        below.push(`${t.table}: ${error}`);
      }
    }
    return [
      t.table,
      count(t.rowsRead),
      count(t.rowsWritten),
      count(t.changes.inserted),
      count(t.changes.updated),
      count(t.changes.unchanged),
      String(t.newColumns.length),
      `${(t.durationMs / 1000).toFixed(1)} s`,
      status,
    ];
  });
  const sum = (f: (t: SyncRun["tables"][number]) => number) =>
    count(run.tables.reduce((n, t) => n + f(t), 0));
  const out = [formatTable(header, lines)];
  out.push(
    `total: ${sum((t) => t.rowsRead)} read, ${sum((t) => t.rowsWritten)} written, ${
      sum((t) => t.changes.inserted)
    } new, ${sum((t) => t.changes.updated)} updated, ${
      sum((t) => t.changes.unchanged)
    } unchanged in ${(run.durationMs / 1000).toFixed(1)} s${
      run.destination ? ` into ${run.destination}` : ""
    }\n`,
  );
  const read = run.tables.reduce((n, t) => n + t.rowsRead, 0);
  const written = run.tables.reduce((n, t) => n + t.rowsWritten, 0);
  if (read !== written) out.push(READ_VS_WRITTEN);
  if (below.length > 0) out.push(`\n${below.join("\n")}\n`);
  const rejected = run.tables.filter((t) => (t.rejected ?? 0) > 0);
  if (rejected.length > 0) {
    const total = rejected.reduce((n, t) => n + (t.rejected ?? 0), 0);
    out.push(
      `\n${count(total)} ${total === 1 ? "record" : "records"} cannot be stored and ` +
        `${total === 1 ? "is" : "are"} kept in _act_rejected (${
          rejected.map((t) => `${t.table} ${count(t.rejected ?? 0)}`).join(", ")
        }); see the log and docs/troubleshooting.md\n`,
    );
  }
  if (run.failSafe) out.push(`\n${run.failSafe}\n`);
  const stopped = stopNote(run);
  if (stopped) out.push(`\n${stopped[0].toUpperCase()}${stopped.slice(1)}\n`);
  if (run.error) out.push(`Sync failed: ${escapeControl(run.error)}\n`);
  return out.join("");
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}
