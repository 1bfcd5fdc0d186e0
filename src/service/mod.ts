/**
 * Service mode (`act-sync` without `--once`): one run at start-up, then one on every tick of the
 * `schedule` (never two at once: a tick during a run is skipped and logged), and the monitoring
 * HTTP app on `http_host:http_port` until SIGINT/SIGTERM (SIGINT/SIGBREAK on Windows).
 *
 * A stop request lets the page being written commit and the state be saved, closes the HTTP
 * server and returns 0. A second stop signal exits at once: the state file is replaced atomically
 * and every page is one transaction, so nothing is half-written.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { networkInterfaces } from "node:os";
import process from "node:process";
import { onStopSignal } from "../core/runtime.ts";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../core/log.ts";
import { listen, type Listener } from "../core/listen.ts";
import { runSync, type SyncRun } from "../jobs/sync.ts";
import { runReconcile } from "../jobs/reconcile.ts";
import { readState, type State } from "../state/mod.ts";
import { type Schedule, scheduleIntervalMs, startSchedule } from "./schedule.ts";
import { createApp } from "./app.ts";
import { Monitor, type RunReason, type RunRecord } from "./monitor.ts";

/** What {@linkcode runService} needs; `src/cli/mod.ts` passes the real ones. */
export interface ServiceDeps {
  logger: Logger;
  /** Standard output. */
  stdout: (text: string) => void;
  /** Standard error. */
  stderr: (text: string) => void;
  /** Stops the service when aborted. @default {SIGINT/SIGTERM (SIGINT/SIGBREAK on Windows)} */
  signal?: AbortSignal;
  /** Port to bind instead of `http_port` (tests pass 0 for a free one). */
  port?: number;
  /** Called once the HTTP server listens, with the bound address. */
  onListen?: (address: { hostname: string; port: number }) => void;
  /** Called after every run, with its record. */
  onRunEnd?: (record: RunRecord) => void;
  /** Injected fetch for the Act! client (tests). */
  fetch?: typeof fetch;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
}

/** Exit code of a second stop signal (the first one stops cleanly with 0). */
const EXIT_AT_ONCE = 1;
/** Exit code when the HTTP server cannot start. */
const EXIT_FAILED = 1;

/**
 * Run the service until a stop request; returns the exit code (0 after a clean stop, 1 when the
 * HTTP server could not start).
 */
export async function runService(config: Config, deps: ServiceDeps): Promise<number> {
  const logger = deps.logger;
  logger.secrets.addCredentials(config.username, config.password);
  logger.addSecret(config.http_token);
  const now = deps.now ?? Date.now;

  let schedule: Schedule | null = null;
  let initial: State | undefined;
  try {
    initial = readState(config.state_file);
  } catch (error) {
    logger.severe(errorMessage(error));
  }
  const monitor = new Monitor({
    tables: config.tables,
    schedule: config.schedule,
    intervalMs: scheduleIntervalMs(config.schedule),
    nextRun: () => schedule?.nextRun() ?? null,
    now,
    state: initial,
  });

  const stop = new AbortController();
  let current: Promise<void> | null = null;

  const startRun = (reason: RunReason): string | null => {
    if (stop.signal.aborted) return null;
    if (current) {
      const running = monitor.running;
      const message = `Skipped the ${reason} run: run ${running?.id ?? "?"} is still in progress`;
      if (reason === "schedule") {
        logger.warning(message);
        monitor.tickSkipped();
      } else {
        logger.info(message);
      }
      return null;
    }
    const id = crypto.randomUUID().slice(0, 8);
    const runLogger = logger.child({ run: id });
    monitor.runStarted(id, reason);
    runLogger.info(`Run ${id} started (${reason})`, { tables: config.tables.join(",") });
    current = (async () => {
      let record: RunRecord;
      try {
        const run: SyncRun = await runSync(config, {}, {
          logger: runLogger,
          now,
          signal: stop.signal,
          fetch: deps.fetch,
          onResponse: (info) => monitor.response(info),
          onState: (state) => monitor.stateSaved(state),
          onProgress: (event) => monitor.progress(event),
        });
        record = monitor.runFinished(run);
      } catch (error) {
        record = monitor.runCrashed(error);
      }
      logRun(runLogger, record);
      current = null;
      try {
        deps.onRunEnd?.(record);
      } catch (error) {
        logger.severe(`onRunEnd failed: ${error instanceof Error ? error.message : error}`);
      }
    })();
    return id;
  };

  const hostname = config.http_host;
  const port = deps.port ?? config.http_port;
  const exposed = !config.http_token && !isLoopback(hostname);
  const exposure = `The monitoring endpoint on ${hostname} port ${port} has no 'http_token': ` +
    `anyone who can reach this address can read /state, /metrics and the status page and ` +
    `start runs with POST /sync; set 'http_token' (or ACT_HTTP_TOKEN) to require a token, or ` +
    `bind 'http_host' to 127.0.0.1`;
  const app = createApp({
    monitor,
    startRun: () => startRun("request"),
    readState: () => readState(config.state_file),
    token: config.http_token,
    logger,
    host: hostname,
    allowedHosts: [...config.http_allowed_hosts, ...wildcardAddresses(hostname)],
    warnings: exposed ? [exposure] : [],
  });

  let listener: Listener;
  try {
    listener = await listen(app.fetch, { hostname, port });
  } catch (error) {
    logger.severe(
      `Cannot serve the monitoring endpoint on ${hostname}:${port} ('http_host', 'http_port'): ${
        errorMessage(error)
      }`,
    );
    return EXIT_FAILED;
  }
  const shown = hostname.includes(":") ? `[${hostname}]` : hostname;
  logger.info(`Monitoring on http://${shown}:${listener.port}/ (health, state, metrics)`, {
    schedule: config.schedule,
    auth: config.http_token ? "token" : "none",
  });
  if (exposed) logger.warning(exposure);
  deps.onListen?.({ hostname, port: listener.port });

  let unsubscribe = () => {};
  if (deps.signal) {
    if (deps.signal.aborted) stop.abort();
    else deps.signal.addEventListener("abort", () => stop.abort(), { once: true });
  } else {
    unsubscribe = onStopSignal(() => stop.abort(), () => {
      logger.severe("Second stop request: exiting at once");
      process.exit(EXIT_AT_ONCE);
    });
  }
  const stopped = new Promise<void>((resolve) => {
    const done = () => {
      logger.warning("Stop requested: finishing the page being written, then stopping");
      resolve();
    };
    if (stop.signal.aborted) done();
    else stop.signal.addEventListener("abort", done, { once: true });
  });

  // Reconcile on its own schedule; it shares the state file's lock with sync runs, so it waits
  // for the run in progress and holds `current` while it runs (sync ticks meanwhile are skipped).
  // Its last result per table lands in the state file under `reconcile` (shown by /state).
  let reconcileSchedule: Schedule | null = null;
  let reconcileWaiting = false;
  const startReconcile = async (): Promise<void> => {
    if (reconcileWaiting) return;
    reconcileWaiting = true;
    try {
      for (let guard = 0; current && guard < 1000; guard++) await current;
      if (stop.signal.aborted || current) return;
      current = (async () => {
        try {
          const run = await runReconcile(config, {}, {
            logger: logger.child({ run: "reconcile" }),
            now,
            signal: stop.signal,
            fetch: deps.fetch,
            onState: (state) => monitor.stateSaved(state),
          });
          const marked = run.tables.reduce((n, t) => n + t.deleted, 0);
          const fetched = run.tables.reduce((n, t) => n + t.fetched, 0);
          const message = `Reconcile ${run.ok ? "finished" : "failed"}`;
          const fields = { deleted: marked, fetched, error: run.error };
          if (run.ok) logger.info(message, fields);
          else logger.severe(message, fields);
        } catch (error) {
          logger.severe(`Reconcile failed: ${error instanceof Error ? error.message : error}`);
        } finally {
          current = null;
        }
      })();
      await current;
    } finally {
      reconcileWaiting = false;
    }
  };

  try {
    reconcileSchedule = startSchedule(config.reconcile_schedule, startReconcile, {
      onError: (error) =>
        logger.severe(
          `Scheduled reconcile failed: ${error instanceof Error ? error.message : error}`,
        ),
    });
    schedule = startSchedule(config.schedule, () => startRun("schedule") ?? undefined, {
      onError: (error) =>
        logger.severe(`Scheduled run failed: ${error instanceof Error ? error.message : error}`),
    });
    startRun("start-up");
    await stopped;
  } finally {
    schedule?.stop();
    reconcileSchedule?.stop();
    stop.abort();
    if (current) await current;
    await listener.close();
    unsubscribe();
    logger.info("Service stopped");
  }
  return 0;
}

/** Whether `host` is a loopback address or name (only this machine can connect). */
export function isLoopback(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** For a wildcard bind (0.0.0.0, ::), this machine's addresses: a `Host` naming one is ours. */
function wildcardAddresses(host: string): string[] {
  if (!["0.0.0.0", "::", "[::]"].includes(host.trim())) return [];
  try {
    return Object.values(networkInterfaces()).flatMap((list) => list ?? [])
      .map((entry) => entry.address.replace(/%.*$/, ""));
  } catch {
    return [];
  }
}

function logRun(logger: Logger, record: RunRecord): void {
  const rows = record.tables.reduce((sum, t) => sum + t.rows_written, 0);
  const fields = {
    result: record.result,
    rows,
    seconds: Math.round((record.duration_seconds ?? 0) * 10) / 10,
  };
  if (record.result === "failed") {
    const failed = record.tables.filter((t) => t.status === "failed").map((t) => t.table);
    logger.severe(
      `Run ${record.id} failed: ${
        record.error ??
          `${failed.length} of ${record.tables.length} tables failed (${failed.join(", ")})`
      }`,
      fields,
    );
  } else if (record.result === "stopped") {
    logger.warning(`Run ${record.id} stopped before completing; the next run resumes it`, fields);
  } else {
    logger.info(`Run ${record.id} finished`, fields);
  }
}
