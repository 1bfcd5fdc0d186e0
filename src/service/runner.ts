/**
 * The single-flight runner: at most one job at a time, a sync run or a reconcile alike, each
 * reported to the {@linkcode Monitor} from start to end. So `/health` (`running`), `/state`
 * (`running`), `act_sync_running` and the status page show a reconcile in progress as they show a
 * sync, and a `POST /sync` meanwhile answers 409 naming the job that runs.
 *
 * A sync asked for while a job runs is skipped (a scheduled tick is counted as skipped); a
 * reconcile waits for the job in progress, then runs (sync ticks meanwhile are skipped).
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import { AccessError, AuthError, errorMessage, LockError, LOGIN_ADVICE } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { runReconcile } from "../jobs/reconcile.ts";
import { runSync } from "../jobs/sync.ts";
import { saveRunSummary } from "../state/history.ts";
import { type Monitor, type RunReason, type RunRecord, summarize } from "./monitor.ts";

/** What a job does. */
export type JobKind = "sync" | "reconcile";

/** What the {@linkcode Runner} needs. */
export interface RunnerDeps {
  config: Config;
  monitor: Monitor;
  logger: Logger;
  /** Aborted on a stop request: no job starts after it, the job in progress stops early. */
  signal: AbortSignal;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
  /** Injected fetch for the Act! client (tests). */
  fetch?: typeof fetch;
  /** Called after every job, with its record. */
  onRunEnd?: (record: RunRecord) => void;
  /** How long to wait before trying again a run that found the lock held, in ms. @default {30000} */
  lockRetryMs?: number;
}

/** How often a run that found the state file locked by another process is tried again. */
const LOCK_RETRY_MS = 30_000;

/** Runs sync and reconcile jobs one at a time. */
export class Runner {
  #deps: RunnerDeps;
  #current: Promise<void> | null = null;
  #reconcileWaiting = false;
  /** A job found the lock held and is being tried again (its repeats log at FINE). */
  #retrying = false;

  constructor(deps: RunnerDeps) {
    this.#deps = deps;
  }

  /** Whether a job runs now. */
  get busy(): boolean {
    return this.#current !== null;
  }

  /**
   * Start a sync run unless a job runs or a stop was requested; returns its id, or null when it
   * did not start (a skipped scheduled tick is logged and counted).
   */
  startSync(reason: RunReason): string | null {
    const { signal, monitor, logger } = this.#deps;
    if (signal.aborted) return null;
    if (this.#current) {
      const running = monitor.running;
      const message = `Skipped the ${reason} run: ${running?.kind ?? "run"} ${
        running?.id ?? "?"
      } is still in progress`;
      if (reason === "schedule") {
        // Harmless while the start-up run (often a long first sync) is still reading: INFO.
        if (running?.reason === "start-up") logger.info(message);
        else logger.warning(message);
        monitor.tickSkipped();
      } else {
        logger.info(message);
      }
      return null;
    }
    return this.#start("sync", reason);
  }

  /**
   * Run a reconcile once the job in progress (if any) ended; resolves when it ended. A second
   * call while one waits does nothing.
   */
  async reconcile(reason: RunReason): Promise<void> {
    if (this.#reconcileWaiting) return;
    this.#reconcileWaiting = true;
    try {
      for (let guard = 0; this.#current && guard < 1000; guard++) await this.#current;
      if (this.#deps.signal.aborted || this.#current) return;
      this.#start("reconcile", reason);
      await this.#current;
    } finally {
      this.#reconcileWaiting = false;
    }
  }

  /** Resolves when no job runs. */
  async idle(): Promise<void> {
    for (let guard = 0; this.#current && guard < 1000; guard++) await this.#current;
  }

  #start(kind: JobKind, reason: RunReason): string {
    const { config, monitor, logger, signal, fetch } = this.#deps;
    const now = this.#deps.now ?? Date.now;
    const id = crypto.randomUUID().slice(0, 8);
    const jobLogger = logger.child({ run: id });
    monitor.runStarted(id, reason, kind);
    const what = kind === "sync" ? "Run" : "Reconcile";
    jobLogger.info(`${what} ${id} started (${reason})`, { tables: config.tables.join(",") });
    this.#current = (async () => {
      let record: RunRecord;
      let refused: unknown = null;
      try {
        if (kind === "sync") {
          const run = await runSync(config, {}, {
            logger: jobLogger,
            now,
            signal,
            fetch,
            onResponse: (info) => monitor.response(info),
            onRequest: () => monitor.requestStarted(),
            onState: (state) => monitor.stateSaved(state),
            onProgress: (event) => monitor.progress(event),
          });
          if (run.failure instanceof AuthError) refused = run.failure;
          record = monitor.runFinished(run);
        } else {
          const run = await runReconcile(config, {}, {
            logger: jobLogger,
            now,
            signal,
            fetch,
            onState: (state) => monitor.stateSaved(state),
            onResponse: (info) => monitor.response(info),
            onRequest: () => monitor.requestStarted(),
          });
          if (run.failure instanceof AuthError) refused = run.failure;
          record = monitor.reconcileFinished(run);
        }
      } catch (error) {
        if (error instanceof LockError) {
          this.#current = null;
          this.#skipLocked(kind, reason, id, jobLogger, error);
          return;
        }
        record = monitor.runCrashed(error);
      }
      this.#retrying = false;
      logRecord(jobLogger, record, refused);
      this.#saveHistory(record, jobLogger);
      this.#current = null;
      try {
        this.#deps.onRunEnd?.(record);
      } catch (error) {
        logger.severe(`onRunEnd failed: ${errorMessage(error)}`);
      }
    })();
    return id;
  }

  /**
   * Another process (a console `reconcile`, `--once`) holds the state file's lock: the job is not
   * a failure but skipped, logged at INFO (FINE when it was a retry), and tried again every
   * `lockRetryMs` until it can start (or a stop is requested). `/health` does not change.
   */
  #skipLocked(
    kind: JobKind,
    reason: RunReason,
    id: string,
    logger: Logger,
    error: LockError,
  ): void {
    const { monitor, signal } = this.#deps;
    monitor.runSkipped();
    const retryMs = this.#deps.lockRetryMs ?? LOCK_RETRY_MS;
    const what = kind === "sync" ? "run" : "reconcile";
    const message = `Skipped the ${reason} ${what} ${id}: another act-sync process holds the ` +
      `lock: ${errorMessage(error)}; trying again every ${
        Math.round(retryMs / 1000)
      } s until it is free`;
    if (this.#retrying) logger.fine(message);
    else logger.info(message);
    if (signal.aborted) return;
    this.#retrying = true;
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", cancel);
      if (signal.aborted) return;
      if (kind === "sync") {
        if (this.startSync(reason) === null) this.#retrying = false;
      } else void this.reconcile(reason);
    }, retryMs);
    const cancel = () => clearTimeout(timer);
    signal.addEventListener("abort", cancel, { once: true });
  }

  /** Keep the run in the state file's history (for the status page's charts after a restart). */
  #saveHistory(record: RunRecord, logger: Logger): void {
    const summary = summarize(record);
    if (!summary) return;
    try {
      saveRunSummary(this.#deps.config.state_file, summary);
    } catch (error) {
      // Another process holding the lock already made this run fail, and said why.
      const log = error instanceof LockError ? logger.fine : logger.warning;
      log.call(
        logger,
        `Cannot keep run ${record.id} in the state file's history: ${errorMessage(error)}`,
      );
    }
  }
}

/**
 * The run's end in the log; a refused login says what to fix, and that the service keeps running
 * and tries again on its schedule (it does not exit: exit code 4 is for the commands that end).
 */
function logRecord(logger: Logger, record: RunRecord, refused: unknown): void {
  const what = record.kind === "sync" ? "Run" : "Reconcile";
  const rows = record.tables.reduce((sum, t) => sum + t.rows_written, 0);
  const fields = {
    result: record.result,
    rows,
    seconds: Math.round((record.duration_seconds ?? 0) * 10) / 10,
    ...(record.kind === "reconcile"
      ? { deleted: record.tables.reduce((sum, t) => sum + (t.rows_deleted ?? 0), 0) }
      : {}),
  };
  if (record.result === "failed") {
    const failed = record.tables.filter((t) => t.status === "failed").map((t) => t.table);
    logger.severe(
      `${what} ${record.id} failed: ${
        record.error ??
          `${failed.length} of ${record.tables.length} tables failed (${failed.join(", ")})`
      }${
        refused
          ? `${
            refused instanceof AccessError ? "" : `: ${LOGIN_ADVICE}`
          }; the service keeps running and tries again on its schedule`
          : ""
      }`,
      fields,
    );
  } else if (record.result === "stopped") {
    logger.info(
      `${what} ${record.id} stopped on request before completing${
        record.kind === "sync" ? "; the next run resumes it" : ""
      }`,
      fields,
    );
  } else {
    logger.info(`${what} ${record.id} finished`, fields);
  }
}
