/**
 * The status page (`GET /`): plain HTML, no script, refreshing itself. Pure. Every value is
 * escaped by `html` from hono/html; only the page's own markup is trusted.
 *
 * @module
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { RunRecord, Snapshot, TableView } from "./monitor.ts";
import { formatUtcForDisplay } from "../core/time.ts";
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
  const tableRows = Object.entries(snapshot.tables).map(([name, view]) => tableRow(name, view));
  const runRows = [
    ...(running ? [runRow(running)] : []),
    ...snapshot.runs.map(runRow),
  ];
  const warnings = (options.warnings ?? []).map((w) =>
    h`<p class="warning error"><strong>Warning:</strong> ${w}</p>\n`
  );
  const reason = health.reason ? h`<p id="reason" class="error">${health.reason}</p>\n` : "";
  const progress = running?.current
    ? `: ${running.current.table}, ${running.current.rows.toLocaleString("en-US")} rows so far`
    : "";
  const what = running && running.kind !== "sync" ? ` (${running.kind})` : "";
  const runs = runRows.length === 0 ? h`<p id="runs">No run yet.</p>` : h`<table id="runs">
<thead><tr><th>Run</th><th>Started</th><th>Reason</th><th>Result</th><th>Duration</th><th>Rows written</th><th>Error</th></tr></thead>
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
<dt>Next run</dt><dd id="next-run">${time(health.next_run)}</dd>
<dt>Schedule</dt><dd><code>${snapshot.schedule}</code></dd>
<dt>Run in progress</dt><dd id="running">${
    running ? h`${running.id}${what} since ${time(running.started_at)}${progress}` : "none"
  }</dd>
</dl>
<h2>Tables</h2>
<table id="tables">
<thead><tr><th>Table</th><th>Status</th><th>Last success</th><th>Rows in destination</th><th>Rows last run</th><th>Duration</th><th>Last error</th></tr></thead>
<tbody>
${join(tableRows, "\n")}
</tbody>
</table>
<h2>Recent runs</h2>
${runs}
<footer>act-sync ${VERSION} · started ${time(snapshot.started_at)} · page generated ${
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
footer { margin-top: 2rem; color: #777; font-size: .85rem; }
</style>`;

/** `html` from hono/html: every interpolated string is escaped, nested fragments are not. */
function h(strings: TemplateStringsArray, ...values: unknown[]): HtmlEscapedString {
  // Synchronous: nothing interpolated here is a promise.
  return html(strings, ...values) as HtmlEscapedString;
}

/** Fragments joined by a (trusted) separator. */
function join(fragments: HtmlEscapedString[], separator: string): HtmlEscapedString {
  return raw(fragments.join(separator));
}

function tableRow(name: string, view: TableView): HtmlEscapedString {
  const error = view.last_error && view.status === "failed"
    ? h`${view.last_error.message} <small>(${time(view.last_error.at)})</small>`
    : "";
  return h`<tr data-table="${name}"><td>${name}</td><td><span class="badge ${view.status}">${view.status}</span></td><td>${
    time(view.last_success)
  }</td><td class="n">${count(view.rows_total)}</td><td class="n">${
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
  return h`<tr data-run="${run.id}"><td><code>${run.id}</code></td><td>${
    time(run.started_at)
  }</td><td>${reason}</td><td><span class="badge ${result}">${result}</span></td><td class="n">${
    duration(run.duration_seconds)
  }</td><td class="n">${count(rows)}</td><td class="error">${
    join(errors.map((e) => h`${e}`), "<br>")
  }</td></tr>`;
}

function time(iso: string | null | undefined): HtmlEscapedString | string {
  if (!iso) return "never";
  const ms = Date.parse(iso);
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
