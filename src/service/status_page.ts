/**
 * The status page (`GET /`): plain HTML, no script, refreshing itself. Pure. Every value is
 * escaped by `h` (src/service/_html.ts: control characters and bidi overrides as the logs escape
 * them, then markup); only the page's own markup is trusted.
 *
 * Inline SVG charts (src/service/charts.ts) show the last runs at a glance: duration and rows
 * written per run, and each table's row count. The tables below them carry the same numbers.
 *
 * @module
 */
import { raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { h, join } from "./_html.ts";
import type { RunRecord, Snapshot, TableView } from "./monitor.ts";
import type { RunSummary } from "../state/history.ts";
import { type ChartPoint, svgChart } from "./charts.ts";
import { formatLocalForDisplay, formatUtcForDisplay, utcMs } from "../core/time.ts";
import { VERSION } from "../core/version.ts";

/** Seconds between automatic reloads of the page. */
export const REFRESH_SECONDS = 15;

/** Render the status page for a snapshot, with `warnings` (e.g. an exposed endpoint) on top. */
export function renderStatusPage(
  snapshot: Snapshot,
  options: { warnings?: readonly string[] } = {},
): string {
  const { health } = snapshot;
  const running = snapshot.running;
  // Oldest first, as the charts draw them.
  const history = [...snapshot.history].reverse();
  const tableRows = Object.entries(snapshot.tables).map(([name, view]) =>
    tableRow(name, view, history, {
      age: health.table_age_seconds[name] ?? null,
      stale: health.stale_tables?.includes(name) ?? false,
    })
  );
  const shown = new Set(snapshot.runs.map((r) => r.id));
  const earlier = snapshot.history.filter((s) => !shown.has(s.id));
  const runRows = [
    ...(running ? [runRow(running)] : []),
    ...snapshot.runs.map(runRow),
    ...earlier.map(summaryRow),
  ].slice(0, MAX_RUN_ROWS + (running ? 1 : 0));
  const warnings = (options.warnings ?? []).map((w) =>
    h`<p class="warning error"><strong>Warning:</strong> ${w}</p>\n`
  );
  const reason = health.reason ? h`<p id="reason" class="error">${health.reason}</p>\n` : "";
  const progress = running?.current
    ? `: ${running.current.table}, ${running.current.rows.toLocaleString("en-US")} rows so far`
    : "";
  const what = running && running.kind !== "sync" ? ` (${running.kind})` : "";
  const runs = runRows.length === 0 ? h`<p id="runs">No run yet.</p>` : h`<table id="runs">
<thead><tr><th>Run</th><th>Started</th><th>Reason</th><th>Result</th><th>Duration</th><th>Rows written</th><th>New</th><th>Updated</th><th>Unchanged</th><th>Error</th></tr></thead>
<tbody>
${join(runRows, "\n")}
</tbody>
</table>`;
  return h`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>act-sync: ${health.status}</title>
${raw(STYLE)}
</head>
<body>
<h1>act-sync <span id="health" class="badge ${health.status}">${health.status}</span></h1>
${warnings}${reason}<dl>
<dt>Last successful run</dt><dd id="last-success">${time(health.last_success)}</dd>
<dt>Next run</dt><dd id="next-run">${time(health.next_run)}${
    health.next_run ? ` (${formatLocalForDisplay(utcMs(health.next_run))})` : ""
  }</dd>
<dt>Schedule</dt><dd><code>${snapshot.schedule}</code> in this machine's local time (${health.schedule_time_zone}); other times on this page are UTC</dd>
<dt>Run in progress</dt><dd id="running">${
    running ? h`${running.id}${what} since ${time(running.started_at)}${progress}` : "none"
  }</dd>
</dl>
${charts(history)}<h2>Tables</h2>
<table id="tables">
<thead><tr><th>Table</th><th>Status</th><th>Last success</th><th>Age</th><th>Rows in destination</th><th>${
    history.length > 0 ? h`Rows, last ${history.length} runs` : ""
  }</th><th>Rows last run</th><th>Duration</th><th>Last error</th></tr></thead>
<tbody>
${join(tableRows, "\n")}
</tbody>
</table>
<h2>Recent runs</h2>
${runs}
${alerts(snapshot)}<footer>act-sync ${VERSION} · started ${
    time(snapshot.started_at)
  } · page generated ${
    time(snapshot.now)
  }, refreshes every ${REFRESH_SECONDS} s · <a href="health">health</a> · <a href="state">state</a> · <a href="metrics">metrics</a></footer>
</body>
</html>
`.toString();
}

const STYLE = `<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: .8rem; font-weight: 600; }
.ok { background: #d8f3dc; color: #1b4332; }
.failed, .failing, .stale { background: #ffd6d6; color: #7a0000; }
.running { background: #dbe9ff; color: #123c7a; }
.never, .stopped { background: #eee; color: #444; }
.error { color: #7a0000; max-width: 40rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dt { color: #555; }
dd { margin: 0; }
.charts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 0; }
figure { margin: 0; }
figcaption { color: #555; font-size: .85rem; }
svg.chart { display: block; }
svg.chart polyline { fill: none; stroke: #5b7db1; stroke-width: 1.5; }
svg.chart line.axis { stroke: #bbb; stroke-width: 1; }
svg.chart circle { fill: #5b7db1; }
svg.chart circle.ok { fill: #2d6a4f; }
svg.chart circle.failed { fill: #c00; }
svg.chart circle.stopped { fill: #999; }
svg.chart text { font-size: 9px; fill: #777; }
footer { margin-top: 2rem; color: #777; font-size: .85rem; }
</style>`;

/** Rows of the runs table: the page lists as many runs as the charts draw. */
const MAX_RUN_ROWS = 50;

/** The charts of the last runs' duration and rows written (oldest first); none without a run. */
function charts(history: readonly RunSummary[]): HtmlEscapedString | string {
  if (history.length === 0) return "";
  const label = (s: RunSummary, what: string) =>
    `${s.id} (${s.reason}, ${s.result}) ${formatUtcForDisplay(utcMs(s.started_at))}: ${what}`;
  const durations: ChartPoint[] = history.map((s) => ({
    value: s.duration_seconds,
    label: label(s, duration(s.duration_seconds)),
    kind: s.result,
  }));
  const written: ChartPoint[] = history.map((s) => ({
    value: s.rows_written,
    label: label(
      s,
      `${count(s.rows_written)} rows written (${count(s.rows_new)} new, ${
        count(s.rows_updated)
      } updated, ${count(s.rows_unchanged)} unchanged)`,
    ),
    kind: s.result,
  }));
  const runs = history.length === 1 ? "the last run" : `the last ${history.length} runs`;
  return h`<h2>Last runs</h2>
<div class="charts">
<figure>${
    svgChart(durations, { id: "chart-duration", title: `Duration of ${runs}`, format: duration })
  }<figcaption>Duration of ${runs}</figcaption></figure>
<figure>${
    svgChart(written, { id: "chart-rows", title: `Rows written in ${runs}` })
  }<figcaption>Rows written in ${runs}</figcaption></figure>
</div>
`;
}

function tableRow(
  name: string,
  view: TableView,
  history: readonly RunSummary[],
  freshness: { age: number | null; stale: boolean },
): HtmlEscapedString {
  const points: ChartPoint[] = history.map((s) => {
    const value = Object.hasOwn(s.rows_total, name) ? s.rows_total[name] : null;
    return { value, label: `${s.id}: ${count(value)} rows`, kind: s.result };
  });
  const trend = history.length === 0 ? "" : svgChart(points, {
    title: `Rows in ${name} over ${
      history.length === 1 ? "the last run" : `the last ${history.length} runs`
    }`,
    width: 160,
    height: 32,
    zero: false,
  });
  const rejected = view.rejected
    ? h` <span class="rejected">${count(view.rejected)} in _act_rejected</span>`
    : "";
  const error = view.last_error && view.status === "failed"
    ? h`${plainText(view.last_error.message)} <small>(${
      time(view.last_error.at)
    })</small>${rejected}`
    : rejected;
  const age = freshness.age === null ? "–" : duration(freshness.age);
  return h`<tr data-table="${name}"><td>${name}</td><td><span class="badge ${view.status}">${view.status}</span></td><td>${
    time(view.last_success)
  }</td><td class="n${freshness.stale ? " stale" : ""}" data-age="${freshness.age ?? ""}">${age}${
    freshness.stale ? " (stale)" : ""
  }</td><td class="n">${count(view.rows_total)}</td><td>${trend}</td><td class="n">${
    count(view.rows_last_run)
  }</td><td class="n">${duration(view.duration_seconds)}</td><td class="error">${error}</td></tr>`;
}

function runRow(run: RunRecord): HtmlEscapedString {
  const result = run.result ?? "running";
  const rows = run.tables.reduce((sum, t) => sum + t.rows_written, 0) +
    (run.current?.rows ?? 0);
  const errors = [
    ...(run.error ? [run.error] : []),
    ...run.tables.filter((t) => t.status === "failed" && t.error && t.error !== run.error)
      .map((t) => `${t.table}: ${t.error}`),
  ];
  const reason = run.kind === "sync" ? run.reason : `${run.kind} (${run.reason})`;
  const of = (pick: (t: RunRecord["tables"][number]) => number | undefined) =>
    run.kind === "sync" && run.result !== null
      ? run.tables.reduce((sum, t) => sum + (pick(t) ?? 0), 0)
      : null;
  return h`<tr data-run="${run.id}"><td><code>${run.id}</code></td><td>${
    time(run.started_at)
  }</td><td>${reason}</td><td><span class="badge ${result}">${result}</span></td><td class="n">${
    duration(run.duration_seconds)
  }</td><td class="n">${count(rows)}</td><td class="n">${
    count(of((t) => t.rows_new))
  }</td><td class="n">${count(of((t) => t.rows_updated))}</td><td class="n">${
    count(of((t) => t.rows_unchanged))
  }</td><td class="error">${join(errors.map((e) => h`${plainText(e)}`), "<br>")}</td></tr>`;
}

/** The alert targets (URLs without path or query) and their last result; none without one. */
function alerts(snapshot: Snapshot): HtmlEscapedString | string {
  if (snapshot.alerts.length === 0) return "";
  const rows = snapshot.alerts.map((a, i) => {
    const result = a.last_result ?? "none yet";
    const badge = a.last_result === "sent" ? "ok" : a.last_result ? "failed" : "never";
    return h`<tr data-alert="${i}"><td>${a.target}</td><td><span class="badge ${badge}">${result}</span></td><td>${
      time(a.last_at)
    }</td><td>${a.last_subject ?? ""}</td><td class="n">${count(a.sent)}</td><td class="n">${
      count(a.failed)
    }</td><td class="error">${a.last_error ?? ""}</td></tr>`;
  });
  return h`<h2>Alerts</h2>
<table id="alerts">
<thead><tr><th>Target</th><th>Last result</th><th>At</th><th>Last alert</th><th>Sent</th><th>Failed</th><th>Last error</th></tr></thead>
<tbody>
${join(rows, "\n")}
</tbody>
</table>
`;
}

/** A run from the state file's history (before the service restarted): its numbers, no errors. */
function summaryRow(run: RunSummary): HtmlEscapedString {
  return h`<tr data-run="${run.id}" class="earlier"><td><code>${run.id}</code></td><td>${
    time(run.started_at)
  }</td><td>${run.reason} <small>(before restart)</small></td><td><span class="badge ${run.result}">${run.result}</span></td><td class="n">${
    duration(run.duration_seconds)
  }</td><td class="n">${count(run.rows_written)}</td><td class="n">${
    count(run.rows_new)
  }</td><td class="n">${count(run.rows_updated)}</td><td class="n">${
    count(run.rows_unchanged)
  }</td><td class="error"></td></tr>`;
}

/**
 * An error message as readable text: a server's HTML error page quoted in it (IIS answers
 * `<!DOCTYPE html …><html><head><title>500 - Internal server error.</title>…`) becomes its text,
 * tags and styles dropped, common entities decoded, spaces collapsed. The result is escaped as
 * any other value.
 */
export function plainText(message: string): string {
  if (!/<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<title>/i.test(message)) return message;
  return message
    .replace(/<(script|style|head)\b[^]*?<\/\1\s*>/gi, (m) =>
      // The title says most ("500 - Internal server error."): keep it.
      /<title>([^<]*)<\/title>/i.exec(m)?.[1] ? ` ${/<title>([^<]*)<\/title>/i.exec(m)![1]} ` : " ")
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'").replace(/&amp;/g, "&")
    .replace(/\s+/g, " ").trim();
}

function time(iso: string | null | undefined): HtmlEscapedString | string {
  if (!iso) return "never";
  const ms = utcMs(iso);
  if (Number.isNaN(ms)) return iso;
  return h`<time datetime="${iso}">${formatUtcForDisplay(ms)}</time>`;
}

function count(value: number | null | undefined): string {
  return typeof value === "number" ? value.toLocaleString("en-US") : "–";
}

function duration(seconds: number | null | undefined): string {
  if (typeof seconds !== "number") return "–";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m} min ${Math.round(seconds % 60)} s`
    : `${Math.floor(m / 60)} h ${m % 60} min`;
}
