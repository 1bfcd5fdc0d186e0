/**
 * Service mode (`act-sync` without `--once`): one run at start-up, then one on every tick of the
 * `schedule`, a reconcile on every tick of `reconcile_schedule` (one job at a time: the
 * single-flight runner, src/service/runner.ts), and the monitoring
 * HTTP app on `http_host:http_port` until SIGINT/SIGTERM (SIGINT/SIGBREAK on Windows).
 *
 * A stop request lets the page being written commit and the state be saved, closes the HTTP
 * server and returns 0. A second stop signal exits at once: the state file is replaced atomically
 * and every page is one transaction, so nothing is half-written.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import { hostname as machineName, networkInterfaces } from "node:os";
import process from "node:process";
import { onStopSignal } from "../core/runtime.ts";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../core/log.ts";
import { listen, type Listener } from "../core/listen.ts";
import { readState, type State } from "../state/mod.ts";
import { nextRunMessage, type Schedule, scheduleIntervalMs, startSchedule } from "./schedule.ts";
import { createApp } from "./app.ts";
import { Monitor, type RunRecord } from "./monitor.ts";
import { Runner } from "./runner.ts";
import { Notifier, type NotifierOptions, smtpOptions } from "./notifier.ts";
import { Alerter } from "./alerter.ts";

/** What {@linkcode runService} needs; `src/cli/serve.ts` passes the real ones. */
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
  /** How long a run that found the lock held waits before trying again, in ms. @default {30000} */
  lockRetryMs?: number;
  /** Alert delivery overrides (tests: short retries). */
  notifier?: Partial<
    Pick<
      NotifierOptions,
      "retryForMs" | "retryDelayMs" | "attemptTimeoutMs" | "closeWaitMs"
    >
  >;
}

/** How often the alerts are checked between runs (staleness), in ms. */
const ALERT_CHECK_MS = 60_000;

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
  let reconcileSchedule: Schedule | null = null;
  let initial: State | undefined;
  try {
    initial = readState(config.state_file);
  } catch (error) {
    logger.severe(errorMessage(error));
  }
  const notifier = new Notifier({
    targets: config.notify,
    logger,
    now,
    smtp: smtpOptions(config.ca_file),
    ...deps.notifier,
  });
  const monitor = new Monitor({
    tables: config.tables,
    schedule: config.schedule,
    intervalMs: scheduleIntervalMs(config.schedule),
    nextRun: () => schedule?.nextRun() ?? null,
    now,
    state: initial,
    unhealthyAfterFailures: config.unhealthy_after_failures,
    alerts: () => notifier.status(),
    maxStaleness: config.max_staleness,
  });
  const alerter = config.notify.length > 0
    ? new Alerter({
      monitor,
      notifier,
      logger,
      events: config.notify_on,
      stateFile: config.state_file,
      statusUrl: statusPageUrl(config.http_host, deps.port || config.http_port),
      now,
    })
    : null;

  const stop = new AbortController();
  const runner = new Runner({
    config,
    monitor,
    logger,
    signal: stop.signal,
    now,
    fetch: deps.fetch,
    lockRetryMs: deps.lockRetryMs,
    onRunEnd: (record) => {
      logger.fine(
        nextRunMessage(schedule?.nextRun() ?? null, reconcileSchedule?.nextRun() ?? null),
      );
      alerter?.afterRun(record);
      deps.onRunEnd?.(record);
    },
  });

  const hostname = config.http_host;
  const port = deps.port ?? config.http_port;
  const exposed = !config.http_token && !isLoopback(hostname);
  const exposure = `The monitoring endpoint on ${hostname} port ${port} has no 'http_token': ` +
    `anyone who can reach this address can read /state, /metrics and the status page and ` +
    `start runs with POST /sync; set 'http_token' (or ACT_HTTP_TOKEN) to require a token, or ` +
    `bind 'http_host' to 127.0.0.1`;
  const app = createApp({
    monitor,
    startRun: () => runner.startSync("request"),
    // After the 202 has left: closing the listener at once can reset the connection (Wine).
    requestStop: () => void setTimeout(() => stop.abort(), 200),
    readState: () => readState(config.state_file),
    token: config.http_token,
    logger,
    host: hostname,
    allowedHosts: [
      ...config.http_allowed_hosts,
      ...wildcardAddresses(hostname),
      ...machineNames(),
    ],
    warnings: exposed ? [exposure] : [],
    requireHost: true,
  });

  let listener: Listener;
  try {
    listener = await listen(app.fetch, {
      hostname,
      port,
      onError: (error) => logger.severe(`HTTP request failed: ${errorMessage(error)}`),
    });
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
      // Stopping an idle service is routine (INFO); cutting a run short is worth a WARNING.
      if (monitor.running) {
        logger.warning("Stop requested: finishing the page being written, then stopping");
      } else logger.info("Stop requested: stopping");
      resolve();
    };
    if (stop.signal.aborted) done();
    else stop.signal.addEventListener("abort", done, { once: true });
  });

  // Reconcile on its own schedule, through the same runner: it waits for the run in progress and
  // shows as running while it runs (sync ticks meanwhile are skipped). Its last result per table
  // lands in the state file under `reconcile` (shown by /state).
  let alertCheck: ReturnType<typeof setInterval> | undefined;

  try {
    reconcileSchedule = startSchedule(
      config.reconcile_schedule,
      () => runner.reconcile("schedule"),
      {
        onError: (error) => logger.severe(`Scheduled reconcile failed: ${errorMessage(error)}`),
      },
    );
    schedule = startSchedule(config.schedule, () => runner.startSync("schedule") ?? undefined, {
      onError: (error) => logger.severe(`Scheduled run failed: ${errorMessage(error)}`),
    });
    logger.info(nextRunMessage(schedule.nextRun(), reconcileSchedule.nextRun()));
    runner.startSync("start-up");
    alertCheck = alerter ? setInterval(() => alerter.tick(), ALERT_CHECK_MS) : undefined;
    await stopped;
  } finally {
    clearInterval(alertCheck);
    schedule?.stop();
    reconcileSchedule?.stop();
    stop.abort();
    await runner.idle();
    await notifier.close();
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

/**
 * The status page's address for alerts: none when `http_host` is a loopback address (no other
 * machine reaches it), this machine's name for a wildcard bind (0.0.0.0, ::).
 */
export function statusPageUrl(host: string, port: number): string | undefined {
  if (isLoopback(host)) return undefined;
  let name = ["0.0.0.0", "::", "[::]"].includes(host.trim()) ? machineName() : host.trim();
  if (name.includes(":") && !name.startsWith("[")) name = `[${name}]`;
  return `http://${name}:${port}/`;
}

/**
 * This machine's own names (`sync01`, and `sync01.example.lan` when the system gives its domain):
 * a `Host` naming them is ours, whatever `http_allowed_hosts` says. A rebinding page uses its own
 * domain, never this machine's name.
 */
export function machineNames(): string[] {
  try {
    const name = machineName().trim().toLowerCase();
    if (!/^[a-z0-9._-]+$/.test(name)) return [];
    return name.includes(".") ? [name, name.split(".")[0]] : [name];
  } catch {
    return [];
  }
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
