/**
 * `/metrics`: the service's {@linkcode Snapshot} in the Prometheus text exposition format
 * (version 0.0.4). Pure.
 *
 * @module
 */
import type { Snapshot } from "./monitor.ts";
import { type ReconcileRecord, reconcileRecords } from "../state/reconcile.ts";
import { VERSION } from "../core/version.ts";
import { utcMs } from "../core/time.ts";

/** The `Content-Type` of {@linkcode formatMetrics}' output. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number];

/** Render a snapshot as Prometheus text. */
export function formatMetrics(snapshot: Snapshot): string {
  const out: string[] = [];
  const family = (
    name: string,
    type: "gauge" | "counter" | "histogram",
    help: string,
    samples: Sample[],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${formatLabels(labels)} ${num(value)}`);
  };
  const tables = Object.entries(snapshot.tables);
  const seconds = (iso: string | null | undefined): number | null => {
    const ms = iso ? utcMs(iso) : NaN;
    return Number.isNaN(ms) ? null : ms / 1000;
  };
  const perTable = (pick: (view: Snapshot["tables"][string]) => number | null | undefined) =>
    tables.flatMap(([table, view]): Sample[] => {
      const value = pick(view);
      return value === null || value === undefined ? [] : [[{ table }, value]];
    });
  const { counters, health } = snapshot;

  family("act_sync_info", "gauge", "Version of act-sync (always 1).", [[{ version: VERSION }, 1]]);
  family("act_sync_start_time_seconds", "gauge", "When the service started, in Unix seconds.", [
    [{}, seconds(snapshot.started_at) ?? 0],
  ]);
  family(
    "act_sync_healthy",
    "gauge",
    "1 when /health answers ok, 0 when failing or stale.",
    [[{}, health.status === "ok" || health.status === "starting" ? 1 : 0]],
  );
  family("act_sync_running", "gauge", "1 while a sync or reconcile run is in progress.", [[
    {},
    snapshot.running ? 1 : 0,
  ]]);
  const lastRunSuccess = seconds(health.last_success);
  family(
    "act_sync_last_run_success_timestamp_seconds",
    "gauge",
    "End of the last run in which every table synced, in Unix seconds.",
    lastRunSuccess === null ? [] : [[{}, lastRunSuccess]],
  );
  const nextRun = seconds(health.next_run);
  family(
    "act_sync_next_run_timestamp_seconds",
    "gauge",
    "The next scheduled run, in Unix seconds.",
    nextRun === null ? [] : [[{}, nextRun]],
  );
  family(
    "act_sync_last_success_timestamp_seconds",
    "gauge",
    "Last time each table synced successfully, in Unix seconds.",
    perTable((view) => seconds(view.last_success)),
  );
  family(
    "act_sync_table_age_seconds",
    "gauge",
    "Seconds since each table last synced successfully (absent: never synced).",
    tables.flatMap(([table]): Sample[] => {
      const age = health.table_age_seconds[table];
      return age === null || age === undefined ? [] : [[{ table }, age]];
    }),
  );
  family(
    "act_sync_table_stale",
    "gauge",
    "1 when the table is past its 'max_staleness'.",
    tables.map(([table]): Sample => [{ table }, health.stale_tables?.includes(table) ? 1 : 0]),
  );
  family(
    "act_sync_last_error_timestamp_seconds",
    "gauge",
    "Last time each table failed, in Unix seconds.",
    perTable((view) => seconds(view.last_error?.at)),
  );
  family(
    "act_sync_table_failing",
    "gauge",
    "1 when the table's last attempt failed.",
    perTable((view) => view.status === "failed" ? 1 : 0),
  );
  family(
    "act_sync_rows",
    "gauge",
    "Live rows in the destination table (rows marked deleted not counted), after its last successful sync.",
    perTable((view) => view.rows_total),
  );
  family(
    "act_sync_rejected_rows",
    "gauge",
    "Records of each table kept in _act_rejected (they cannot be stored), after its last run.",
    perTable((view) => view.rejected ?? (view.last_success ? 0 : null)),
  );
  family(
    "act_sync_last_run_rows",
    "gauge",
    "Rows written to each table in its last run.",
    perTable((view) => view.rows_last_run),
  );
  family(
    "act_sync_table_duration_seconds",
    "gauge",
    "How long each table took in its last run.",
    perTable((view) => view.duration_seconds),
  );
  const reconciled = Object.entries(reconcileRecords(snapshot.state));
  const perReconciled = (pick: (record: ReconcileRecord) => number | null) =>
    reconciled.flatMap(([table, record]): Sample[] => {
      const value = pick(record);
      return value === null ? [] : [[{ table }, value]];
    });
  family(
    "act_sync_reconcile_timestamp_seconds",
    "gauge",
    "Last reconcile of each table, in Unix seconds.",
    perReconciled((r) => seconds(r.at)),
  );
  family(
    "act_sync_reconcile_ok",
    "gauge",
    "1 when the table's last reconcile completed (0: failed, refused by the deletion guard, or stopped).",
    perReconciled((r) => r.status === "ok" ? 1 : 0),
  );
  family(
    "act_sync_reconcile_deleted_rows",
    "gauge",
    "Rows marked deleted by the table's last reconcile.",
    perReconciled((r) => r.deleted),
  );
  family(
    "act_sync_reconcile_fetched_rows",
    "gauge",
    "Rows fetched (missing locally, or revived) by the table's last reconcile.",
    perReconciled((r) => r.fetched),
  );
  family(
    "act_sync_reconcile_refused_deletes",
    "gauge",
    "Deletions the last reconcile refused to mark (above max_delete_fraction, without --force).",
    perReconciled((r) => r.refused_deletes),
  );
  family(
    "act_sync_rows_synced_total",
    "counter",
    "Rows written per table since the service started.",
    tables.map(([table]) => [{ table }, counters.rows_synced[table as never] ?? 0]),
  );
  const rowsOf = (counter: Partial<Record<string, number>>): Sample[] =>
    tables.map(([table]) => [{ table }, counter[table] ?? 0]);
  family(
    "act_sync_rows_new_total",
    "counter",
    "Of the rows synced, ids new to the destination, per table since the service started.",
    rowsOf(counters.rows_new),
  );
  family(
    "act_sync_rows_updated_total",
    "counter",
    "Of the rows synced, rows whose values changed, per table since the service started.",
    rowsOf(counters.rows_updated),
  );
  family(
    "act_sync_rows_unchanged_total",
    "counter",
    "Of the rows synced, rows re-read unchanged (window overlap), per table since the service started.",
    rowsOf(counters.rows_unchanged),
  );
  family(
    "act_sync_runs_total",
    "counter",
    "Finished sync runs by result (ok, failed, stopped).",
    (["ok", "failed", "stopped"] as const).map((result) => [{ result }, counters.runs[result]]),
  );
  family(
    "act_sync_skipped_ticks_total",
    "counter",
    "Scheduled ticks skipped because a run was still in progress.",
    [[{}, counters.ticks_skipped]],
  );
  const h = counters.run_duration;
  out.push(
    "# HELP act_sync_run_duration_seconds Duration of finished sync runs.",
    "# TYPE act_sync_run_duration_seconds histogram",
    ...h.bounds.map((bound, i) =>
      `act_sync_run_duration_seconds_bucket${formatLabels({ le: num(bound) })} ${h.counts[i]}`
    ),
    `act_sync_run_duration_seconds_bucket{le="+Inf"} ${h.count}`,
    `act_sync_run_duration_seconds_sum ${num(h.sum)}`,
    `act_sync_run_duration_seconds_count ${h.count}`,
  );
  family(
    "act_sync_http_requests_total",
    "counter",
    "Requests to the Act! Web API by HTTP status (0 = no response).",
    Object.entries(counters.http_requests)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, count]) => [{ status }, count]),
  );
  family(
    "act_sync_rate_limit_remaining",
    "gauge",
    "The last X-RateLimit-Remaining header from the Act! Web API.",
    counters.rate_limit_remaining === null ? [] : [[{}, counters.rate_limit_remaining]],
  );
  const alerts = snapshot.alerts;
  if (alerts.length > 0) {
    family(
      "act_sync_alerts_total",
      "counter",
      "Alerts per target (URL without path) by result: sent, or failed after every retry.",
      alerts.flatMap((a): Sample[] => [
        [{ target: a.target, result: "sent" }, a.sent],
        [{ target: a.target, result: "failed" }, a.failed],
      ]),
    );
    family(
      "act_sync_alert_failing",
      "gauge",
      "1 when the last alert to the target failed (or is being retried).",
      alerts.map((a): Sample => [
        { target: a.target },
        a.last_result === "failed" || a.last_result === "retrying" ? 1 : 0,
      ]),
    );
  }
  return out.join("\n") + "\n";
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
