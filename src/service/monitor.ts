/**
 * The live status of the service: the run in progress, recent runs, per-table status from the
 * state file, and the counters behind `/metrics`. One {@linkcode Monitor} is fed by the service
 * (run start and end, saved states, HTTP attempts, skipped ticks) and read by the HTTP app.
 * Pure: the clock and the schedule come in through {@linkcode MonitorOptions}.
 *
 * @module
 */
import { errorMessage } from "../core/errors.ts";
import type { ResponseInfo } from "../act/client.ts";
import type { ReconcileRun } from "../jobs/reconcile.ts";
import type { SyncRun } from "../jobs/sync.ts";
import type { State, TableStatus } from "../state/mod.ts";
import { HISTORY_LIMIT, historyOf, type RunSummary } from "../state/history.ts";
import type { ProgressEvent } from "../sync/engine.ts";
import {
  type CustomTableName,
  isBuiltinTableName,
  selectTables,
  type TableName,
  TABLES,
} from "../act/tables.ts";
import { newCustomTables, recordedCustomSpecs } from "../sync/custom.ts";
import { formatDuration, type MaxStaleness } from "../config/mod.ts";
import { localTimeZone, utcMs } from "../core/time.ts";

/** Why a run started. */
export type RunReason = "start-up" | "schedule" | "request";

/** How a run ended: `stopped` is a run cut short by a stop request (not a failure). */
export type RunOutcome = "ok" | "failed" | "stopped";

/**
 * How a run (sync or reconcile) ended: `ok` when it says so; else `stopped` when it was cut short
 * with nothing gone wrong (no run error or fail-safe, every table it reached `ok` or `stopped`),
 * else `failed` (a failed or refused table among them).
 */
function outcomeOf(
  ok: boolean,
  error: string | undefined,
  tables: readonly Pick<TableRun, "status">[],
): RunOutcome {
  if (ok) return "ok";
  const cut = !error && tables.every((t) => t.status === "ok" || t.status === "stopped");
  return cut ? "stopped" : "failed";
}

/** One table within a run. */
export interface TableRun {
  table: TableName;
  /** `refused`: a reconcile found more deletions than `max_delete_fraction` and marked none. */
  status: "ok" | "failed" | "stopped" | "refused";
  rows_read: number;
  /** Rows written (a reconcile: rows fetched because the destination lacked them). */
  rows_written: number;
  /** A sync: of `rows_written`, ids new to the destination, rows changed, rows re-read unchanged. */
  rows_new?: number;
  rows_updated?: number;
  rows_unchanged?: number;
  /** A reconcile: rows marked deleted. */
  rows_deleted?: number;
  /** A sync: the table's records kept in `_act_rejected` after the run (0 when none). */
  rows_rejected?: number;
  /** A sync: columns added to a table synced before (schema change). */
  new_columns?: string[];
  /** A sync: the table was stored for the first time while others had been synced before. */
  new_table?: boolean;
  /** A sync: a custom table Act! listed for the first time (its Act! entity), others synced before. */
  new_custom?: string;
  /** A sync of field_labels, every table synced before: labels new, renamed or gone in Act! */
  labels_changed?: number;
  duration_seconds: number;
  error?: string;
}

/** One run of the service, finished or in progress: a sync, or a reconcile. */
export interface RunRecord {
  /** Short run id, also in every JSON log line of the run. */
  id: string;
  /** What the run does. */
  kind: "sync" | "reconcile";
  reason: RunReason;
  started_at: string;
  /** These three are null while running. */
  finished_at: string | null;
  duration_seconds: number | null;
  result: RunOutcome | null;
  /** Why the run failed as a whole (authentication, lock, fail-safe), if it did. */
  error: string | null;
  /** Tables finished so far (all of them once the run ended). */
  tables: TableRun[];
  /** While running: the table being read and the rows written to it so far. */
  current: { table: TableName; rows: number } | null;
  /** Once ended: rows in each destination table after the run (as last counted). */
  rows_total?: Record<string, number>;
}

/** One target as the status page and `/metrics` show it. */
export interface AlertTargetStatus {
  /** The target, safe to show: `webhook https://hooks.example.com/***`, `email it@example.com`. */
  target: string;
  kind: "webhook" | "email";
  /** The last send that ended (UTC), or null. */
  last_at: string | null;
  /** `sent`, `failed` (after every retry), `retrying`, or null before the first alert. */
  last_result: "sent" | "failed" | "retrying" | null;
  /** Why the last send failed (redacted), or null. */
  last_error: string | null;
  /** The last alert's subject. */
  last_subject: string | null;
  sent: number;
  failed: number;
}

/** What `/health` answers. */
export interface Health {
  /**
   * `starting` (200): no sync run has finished since the service started; `ok` (200); `failing`
   * (503): the last `unhealthy_after_failures` runs failed; `stale` (503): no success for too long.
   */
  status: "ok" | "starting" | "failing" | "stale";
  /** Set when the status is not `ok`; names no secret, URL or server detail. */
  reason?: string;
  /** End of the last run in which every table synced (or, after a restart, from the state file). */
  last_success: string | null;
  /** End of the last finished run, whatever its outcome. */
  last_run: string | null;
  /** The next scheduled run (UTC; `schedule` is read in `schedule_time_zone`). */
  next_run: string | null;
  /** The host's time zone (IANA name), in which the cron schedules run; all times shown are UTC. */
  schedule_time_zone: string;
  /** Whether a run (sync or reconcile) is in progress. */
  running: boolean;
  /** Sync runs failed in a row (stopped runs do not count, a success resets it). */
  consecutive_failures: number;
  /** Per table: seconds since its last successful sync (null: never synced). */
  table_age_seconds: Record<string, number | null>;
  /** When `stale` because tables passed their `max_staleness`: those tables. */
  stale_tables?: string[];
  /**
   * Seconds the oldest request to the Act! Web API in flight has waited for its answer so far
   * (connect, response and body); null when no request is waiting. A number that keeps growing
   * means the server does not answer.
   */
  act_waiting_seconds: number | null;
  /** Seconds since the Act! Web API last answered (any status); null before its first answer. */
  act_last_answer_seconds: number | null;
  /**
   * Records kept in `_act_rejected` because they cannot be stored, over the configured tables
   * (as of each table's last run). They do not make the status `failing`: every other row is
   * stored, and each of these is kept whole, logged and tried again on every run.
   */
  rejected: number;
}

/** Per-table status for `/state` and the status page. */
export interface TableView extends TableStatus {
  status: "ok" | "failed" | "running" | "never";
  cursor: string | null;
}

/** A cumulative histogram. */
export interface Histogram {
  /** Upper bounds of the buckets, ascending; `+Inf` is implied. */
  bounds: readonly number[];
  /** Count of observations `<= bounds[i]` (cumulative), one per bound. */
  counts: number[];
  sum: number;
  count: number;
}

/** The counters behind `/metrics`, since the service started. */
export interface Counters {
  runs: Record<RunOutcome, number>;
  ticks_skipped: number;
  rows_synced: Partial<Record<TableName, number>>;
  /** Of those: ids new to the destination, rows changed, rows re-read unchanged. */
  rows_new: Partial<Record<TableName, number>>;
  rows_updated: Partial<Record<TableName, number>>;
  rows_unchanged: Partial<Record<TableName, number>>;
  /** Requests to the Act! Web API by status ("0" = no response). */
  http_requests: Record<string, number>;
  /** The last `X-RateLimit-Remaining` seen, or null. */
  rate_limit_remaining: number | null;
  run_duration: Histogram;
}

/** Everything the HTTP app shows, at one instant. */
export interface Snapshot {
  now: string;
  started_at: string;
  schedule: string;
  health: Health;
  tables: Record<string, TableView>;
  running: RunRecord | null;
  last_run: RunRecord | null;
  /** Recent finished runs, newest first. */
  runs: RunRecord[];
  /**
   * The last sync runs, newest first, at most {@linkcode HISTORY_LIMIT}: these runs and, after a
   * restart, those of the state file's `history` (for the status page's charts).
   */
  history: RunSummary[];
  state: State;
  counters: Counters;
  /** The alert targets (URLs redacted) and their last result. */
  alerts: AlertTargetStatus[];
}

/** Options for {@linkcode Monitor}. */
export interface MonitorOptions {
  /** The `tables` selection the service syncs (custom tables: those the state file records). */
  tables: readonly string[];
  /** The cron pattern, for display. */
  schedule: string;
  /** One schedule interval in ms; no success for three of them means stale. */
  intervalMs: number;
  /** The next scheduled run. @default {() => null} */
  nextRun?: () => Date | null;
  /** Host clock in ms. @default {Date.now} */
  now?: () => number;
  /** The state file as the service found it. */
  state?: State;
  /** How many finished runs to keep. @default {HISTORY_LIMIT} (50) */
  keepRuns?: number;
  /** Consecutive failed runs before `/health` is failing (`unhealthy_after_failures`). @default {1} */
  unhealthyAfterFailures?: number;
  /** Per table (and `"*"`), seconds without a successful sync before `/health` is stale. */
  maxStaleness?: MaxStaleness;
  /** The alert targets and their last result (status page, `/metrics`). @default {() => []} */
  alerts?: () => AlertTargetStatus[];
}

/** Bucket bounds of `act_sync_run_duration_seconds`, in seconds. */
export const RUN_DURATION_BUCKETS: readonly number[] = [
  1,
  5,
  15,
  60,
  300,
  900,
  3600,
  14400,
];

/** How many schedule intervals without a successful run make the service stale. */
export const STALE_INTERVALS = 3;

/** The live status of the service. */
export class Monitor {
  #options: MonitorOptions;
  #now: () => number;
  /** When each request in flight was sent (`max_parallel_requests` may be above 1). */
  #waiting: number[] = [];
  /** When the Act! Web API last answered (null: never). */
  #lastAnswer: number | null = null;
  #startedAt: number;
  #state: State;
  #running: RunRecord | null = null;
  /** The state when the run in progress started (which tables had been synced before). */
  #stateAtStart: State | null = null;
  #runs: RunRecord[] = [];
  #history: RunSummary[];
  #lastSuccess: number | null;
  #counters: Counters;

  /** The tables of the selection: built-in ones and the custom tables the state records. */
  #tables(): TableName[] {
    const customs = recordedCustomSpecs(this.#state, true).map((s) => s.name as CustomTableName);
    return selectTables(this.#options.tables, customs);
  }

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#state = options.state ?? { table_cursors: {}, table_batch_tracking: {} };
    this.#history = historyOf(this.#state);
    this.#lastSuccess = lastRunSuccessOf(this.#history, this.#state, this.#tables());
    this.#counters = {
      runs: { ok: 0, failed: 0, stopped: 0 },
      ticks_skipped: 0,
      rows_synced: {},
      rows_new: {},
      rows_updated: {},
      rows_unchanged: {},
      http_requests: {},
      rate_limit_remaining: null,
      run_duration: {
        bounds: RUN_DURATION_BUCKETS,
        counts: RUN_DURATION_BUCKETS.map(() => 0),
        sum: 0,
        count: 0,
      },
    };
  }

  /** The run in progress, if any. */
  get running(): RunRecord | null {
    return this.#running;
  }

  /** A run started. */
  runStarted(id: string, reason: RunReason, kind: RunRecord["kind"] = "sync"): void {
    this.#stateAtStart = this.#state;
    this.#running = {
      id,
      kind,
      reason,
      started_at: this.#iso(),
      finished_at: null,
      duration_seconds: null,
      result: null,
      error: null,
      tables: [],
      current: null,
    };
  }

  /** Rows written so far to the table being read. */
  progress(event: ProgressEvent): void {
    if (this.#running) this.#running.current = { table: event.table, rows: event.rows };
  }

  /** The state file was saved. */
  stateSaved(state: State): void {
    this.#state = state;
  }

  /** An HTTP attempt to the Act! Web API was sent. */
  requestStarted(): void {
    this.#waiting.push(this.#now());
  }

  /** An HTTP attempt to the Act! Web API ended. */
  response(info: ResponseInfo): void {
    // The request that ended is the one in flight sent closest to `info.ms` ago.
    const sent = this.#now() - info.ms;
    let ended = -1;
    for (let i = 0; i < this.#waiting.length; i++) {
      if (ended < 0 || Math.abs(this.#waiting[i] - sent) < Math.abs(this.#waiting[ended] - sent)) {
        ended = i;
      }
    }
    if (ended >= 0) this.#waiting.splice(ended, 1);
    if (info.status > 0) this.#lastAnswer = this.#now();
    const key = String(info.status);
    this.#counters.http_requests[key] = (this.#counters.http_requests[key] ?? 0) + 1;
    if (info.rateLimitRemaining !== null && Number.isFinite(info.rateLimitRemaining)) {
      this.#counters.rate_limit_remaining = info.rateLimitRemaining;
    }
  }

  /** A scheduled tick came during a run and was skipped. */
  tickSkipped(): void {
    this.#counters.ticks_skipped++;
  }

  /** The run just started did not run (another process holds the lock): a skipped tick. */
  runSkipped(): void {
    this.#running = null;
    this.#stateAtStart = null;
    this.#counters.ticks_skipped++;
  }

  /** The run in progress ended with `run`; returns its record. */
  runFinished(run: SyncRun): RunRecord {
    const before = (this.#stateAtStart ?? this.#state).tables ?? {};
    const anySynced = Object.values(before).some((t) => t?.last_success);
    // Labels of a table stored for the first time are new too, but not a change in Act!.
    const allKnown = run.tables.every((t) => Boolean(before[t.table]?.last_success));
    const customs = anySynced ? newCustomTables(this.#stateAtStart ?? this.#state, run.state) : {};
    const tables: TableRun[] = run.tables.map((t) => {
      const known = Boolean(before[t.table]?.last_success);
      return {
        table: t.table,
        status: t.status,
        rows_read: t.rowsRead,
        rows_written: t.rowsWritten,
        rows_new: t.changes.inserted,
        rows_updated: t.changes.updated,
        rows_unchanged: t.changes.unchanged,
        rows_rejected: t.rejected ?? 0,
        ...(known && t.newColumns.length > 0 ? { new_columns: [...t.newColumns] } : {}),
        ...(allKnown && isBuiltinTableName(t.table) && TABLES[t.table].metadata === "fields" &&
            t.changes.inserted + t.changes.updated > 0
          ? { labels_changed: t.changes.inserted + t.changes.updated }
          : {}),
        // New: never attempted before (added to `tables`), while others had synced.
        ...(!before[t.table] && anySynced && t.status === "ok" ? { new_table: true } : {}),
        ...(customs[t.table] ? { new_custom: customs[t.table] } : {}),
        duration_seconds: t.durationMs / 1000,
        ...(t.error ? { error: t.error } : {}),
      };
    });
    const add = (counter: Partial<Record<TableName, number>>, table: TableName, n: number) => {
      counter[table] = (counter[table] ?? 0) + n;
    };
    for (const t of run.tables) {
      add(this.#counters.rows_synced, t.table, t.rowsWritten);
      add(this.#counters.rows_new, t.table, t.changes.inserted);
      add(this.#counters.rows_updated, t.table, t.changes.updated);
      add(this.#counters.rows_unchanged, t.table, t.changes.unchanged);
    }
    const outcome = outcomeOf(run.ok, run.error || run.failSafe, tables);
    this.#state = run.error && run.tables.length === 0
      ? this.#failedBeforeTables(run.error)
      : run.state;
    return this.#finish(outcome, run.error ?? run.failSafe ?? null, tables);
  }

  /**
   * The reconcile in progress ended with `run`; returns its record. It is listed with the runs
   * but does not count as a sync run (health, `act_sync_runs_total`, the run duration).
   */
  reconcileFinished(run: ReconcileRun): RunRecord {
    const tables: TableRun[] = run.tables.map((t) => ({
      table: t.table,
      status: t.status,
      rows_read: t.remote,
      rows_written: t.fetched,
      rows_deleted: t.deleted,
      duration_seconds: 0,
      ...(t.error ? { error: t.error } : {}),
    }));
    return this.#finish(outcomeOf(run.ok, run.error, tables), run.error ?? null, tables);
  }

  /** The run in progress ended with an exception (e.g. another process holds the lock). */
  runCrashed(error: unknown): RunRecord {
    this.#state = this.#failedBeforeTables(errorMessage(error));
    return this.#finish("failed", errorMessage(error), []);
  }

  /**
   * The state as shown after a run that failed before reaching any table (Act! down, login
   * refused, destination or lock): every table of the service gets that run's error, so that
   * `/state`, the status page and `act_sync_table_failing` show them as not synced. Shown only;
   * the state file is not changed.
   */
  #failedBeforeTables(message: string): State {
    const at = this.#iso();
    const tables = { ...this.#state.tables };
    for (const table of this.#tables()) {
      tables[table] = { ...tables[table], last_error: { message, at } };
    }
    return { ...this.#state, tables };
  }

  /** What `/health` answers now. */
  health(): Health {
    const now = this.#now();
    const syncs = this.#runs.filter((r) => r.kind === "sync");
    const last = syncs.find((r) => r.result !== "stopped") ?? null;
    let failures = 0;
    for (const run of syncs) {
      if (run.result === "stopped") continue;
      if (run.result !== "failed") break;
      failures++;
    }
    const base = {
      last_success: this.#lastSuccess === null ? null : new Date(this.#lastSuccess).toISOString(),
      last_run: syncs[0]?.finished_at ?? null,
      next_run: this.#options.nextRun?.()?.toISOString() ?? null,
      schedule_time_zone: localTimeZone(),
      running: this.#running !== null,
      consecutive_failures: failures,
      table_age_seconds: this.#tableAges(now),
      act_waiting_seconds: this.#waiting.length === 0
        ? null
        : seconds(now - Math.min(...this.#waiting)),
      act_last_answer_seconds: this.#lastAnswer === null ? null : seconds(now - this.#lastAnswer),
      rejected: this.#options.tables.reduce(
        (sum, table) => sum + (this.#state.tables?.[table]?.rejected ?? 0),
        0,
      ),
    };
    if (last?.result === "failed" && failures >= (this.#options.unhealthyAfterFailures ?? 1)) {
      const failed = last.tables.filter((t) => t.status === "failed").map((t) => t.table);
      const runs = failures > 1 ? `The last ${failures} runs` : "The last run";
      const reason = failed.length > 0
        ? `${runs} failed: ${failed.length} of ${last.tables.length} tables failed (${
          failed.join(", ")
        })`
        : `${runs} failed before syncing any table (connection, authentication, ` +
          "destination or lock); see /state";
      return { status: "failing", reason, ...base };
    }
    const since = this.#lastSuccess ?? this.#startedAt;
    const limit = STALE_INTERVALS * this.#options.intervalMs;
    if (now - since > limit) {
      const what = this.#lastSuccess === null
        ? `since the service started at ${new Date(this.#startedAt).toISOString()}`
        : `since ${new Date(this.#lastSuccess).toISOString()}`;
      return {
        status: "stale",
        reason: `No run has succeeded ${what} (${STALE_INTERVALS} schedule intervals: ${
          Math.round(limit / 1000)
        } s)`,
        ...base,
      };
    }
    const stale = this.staleTables();
    const names = Object.keys(stale);
    if (names.length > 0) {
      return {
        status: "stale",
        reason: Object.values(stale).join("; "),
        ...base,
        stale_tables: names,
      };
    }
    // Until the first run ends, "ok" would claim a success nobody has seen yet.
    if (syncs.length === 0) return { status: "starting", ...base };
    return { status: "ok", ...base };
  }

  /**
   * The tables past their `max_staleness` now, each with the reason `/health` gives: its age, since
   * when, and the limit. A table never synced counts from the service's start.
   */
  staleTables(): Record<string, string> {
    const limits = this.#options.maxStaleness ?? {};
    const now = this.#now();
    const out: Record<string, string> = {};
    for (const table of this.#options.tables) {
      const limit = limits[table as TableName] ?? limits["*"];
      if (limit === undefined) continue;
      const last = this.#state.tables?.[table]?.last_success;
      const since = last ? utcMs(last) : this.#startedAt;
      if (Number.isNaN(since) || now - since <= limit * 1000) continue;
      const when = last
        ? `since ${new Date(since).toISOString()}`
        : `since the service started at ${new Date(since).toISOString()}`;
      out[table] = `Table ${table} has not synced successfully for ${
        formatDuration((now - since) / 1000)
      } (${when}; 'max_staleness' is ${formatDuration(limit)})`;
    }
    return out;
  }

  #tableAges(now: number): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const table of this.#options.tables) {
      const last = utcMs(this.#state.tables?.[table]?.last_success ?? "");
      out[table] = Number.isNaN(last) ? null : Math.max(0, Math.round((now - last) / 1000));
    }
    return out;
  }

  /** Everything the HTTP app shows. */
  snapshot(): Snapshot {
    const tables: Record<string, TableView> = {};
    for (const table of this.#tables()) {
      const status = this.#state.tables?.[table] ?? {};
      const cursor = this.#state.table_cursors[table];
      tables[table] = {
        status: this.#running?.current?.table === table ? "running" : tableStatus(status),
        cursor: typeof cursor === "string" ? cursor : null,
        ...status,
      };
    }
    return {
      now: this.#iso(),
      started_at: new Date(this.#startedAt).toISOString(),
      schedule: this.#options.schedule,
      health: this.health(),
      tables,
      running: this.#running ? structuredClone(this.#running) : null,
      last_run: this.#runs.find((r) => r.kind === "sync") ?? null,
      runs: [...this.#runs],
      history: [...this.#history],
      state: this.#state,
      counters: structuredClone(this.#counters),
      alerts: this.#options.alerts?.() ?? [],
    };
  }

  #finish(outcome: RunOutcome, error: string | null, tables: TableRun[]): RunRecord {
    const now = this.#now();
    const started = this.#running ? utcMs(this.#running.started_at) : now;
    const record: RunRecord = {
      ...(this.#running ?? {
        id: "unknown",
        kind: "sync" as const,
        reason: "request" as const,
        started_at: new Date(now).toISOString(),
      }),
      finished_at: new Date(now).toISOString(),
      duration_seconds: (now - started) / 1000,
      result: outcome,
      error,
      tables,
      current: null,
      rows_total: rowsTotalOf(this.#state, this.#tables()),
    };
    this.#running = null;
    const keep = Math.max(1, this.#options.keepRuns ?? HISTORY_LIMIT);
    this.#runs.unshift(record);
    this.#runs.length = Math.min(this.#runs.length, keep);
    const summary = summarize(record);
    if (summary) {
      this.#history = [summary, ...this.#history.filter((s) => s.id !== summary.id)]
        .slice(0, keep);
    }
    if (record.kind !== "sync") return record;
    this.#counters.runs[outcome]++;
    if (outcome === "ok") this.#lastSuccess = now;
    const histogram = this.#counters.run_duration;
    const seconds = record.duration_seconds ?? 0;
    histogram.bounds.forEach((bound, i) => {
      if (seconds <= bound) histogram.counts[i]++;
    });
    histogram.sum += seconds;
    histogram.count++;
    return record;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }
}

/**
 * The compact form of a finished sync run kept in the state file's history; null for a reconcile
 * or a run still in progress.
 */
export function summarize(record: RunRecord): RunSummary | null {
  if (record.kind !== "sync" || record.result === null) return null;
  const sum = (pick: (t: TableRun) => number | undefined) =>
    record.tables.reduce((total, t) => total + (pick(t) ?? 0), 0);
  return {
    id: record.id,
    reason: record.reason,
    started_at: record.started_at,
    duration_seconds: Math.round((record.duration_seconds ?? 0) * 1000) / 1000,
    result: record.result,
    rows_written: sum((t) => t.rows_written),
    rows_new: sum((t) => t.rows_new),
    rows_updated: sum((t) => t.rows_updated),
    rows_unchanged: sum((t) => t.rows_unchanged),
    rows_total: { ...record.rows_total },
  };
}

/** Rows in each destination table as the state last counted them. */
function rowsTotalOf(state: State, tables: readonly TableName[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const table of tables) {
    const n = state.tables?.[table]?.rows_total;
    if (typeof n === "number") out[table] = n;
  }
  return out;
}

function tableStatus(status: TableStatus): TableView["status"] {
  const success = status.last_success ? utcMs(status.last_success) : NaN;
  const error = status.last_error?.at ? utcMs(status.last_error.at) : NaN;
  if (!Number.isNaN(error) && (Number.isNaN(success) || error >= success)) return "failed";
  if (!Number.isNaN(success)) return "ok";
  return "never";
}

/**
 * The end of the last run in which every table synced, as known at start-up: the end of the newest
 * `ok` run in the state file's `history` (service runs), or, when the tables' own successes are
 * later (a `--once` run of every table, which keeps no history) or there is no such run, the oldest
 * `last_success` over the tables (when every table has one and none failed since): the moment by
 * which every table had synced. A `--once --tables contacts` run moves neither.
 */
function lastRunSuccessOf(
  history: readonly RunSummary[],
  state: State,
  tables: readonly TableName[],
): number | null {
  const ok = history.find((run) => run.result === "ok");
  const end = ok ? utcMs(ok.started_at) + ok.duration_seconds * 1000 : NaN;
  const oldest = lastSuccessOf(state, tables);
  if (Number.isNaN(end)) return oldest;
  return oldest === null ? end : Math.max(end, oldest);
}

/** The oldest `last_success` over the tables, when every table has one and none failed since. */
function lastSuccessOf(state: State, tables: readonly TableName[]): number | null {
  let oldest: number | null = null;
  for (const table of tables) {
    const status = state.tables?.[table];
    if (!status || tableStatus(status) !== "ok") return null;
    const ms = utcMs(status.last_success!);
    oldest = oldest === null ? ms : Math.min(oldest, ms);
  }
  return oldest;
}

/** Milliseconds as whole seconds, never negative. */
function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}
