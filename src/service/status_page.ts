/**
 * The status page (`GET /`): plain HTML, no script, refreshing itself. Pure.
 *
 * @module
 */
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
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>act-sync: ${escape(health.status)}</title>
<style>
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
</style>
</head>
<body>
<h1>act-sync <span id="health" class="badge ${escape(health.status)}">${
    escape(health.status)
  }</span></h1>
${
    (options.warnings ?? []).map((w) =>
      `<p class="warning error"><strong>Warning:</strong> ${escape(w)}</p>\n`
    )
      .join("")
  }${health.reason ? `<p id="reason" class="error">${escape(health.reason)}</p>\n` : ""}<dl>
<dt>Last successful run</dt><dd id="last-success">${time(health.last_success)}</dd>
<dt>Next run</dt><dd id="next-run">${time(health.next_run)}</dd>
<dt>Schedule</dt><dd><code>${escape(snapshot.schedule)}</code></dd>
<dt>Run in progress</dt><dd id="running">${
    running
      ? `${escape(running.id)} since ${time(running.started_at)}` +
        (running.current
          ? `: ${escape(running.current.table)}, ${
            running.current.rows.toLocaleString("en-US")
          } rows so far`
          : "")
      : "none"
  }</dd>
</dl>
<h2>Tables</h2>
<table id="tables">
<thead><tr><th>Table</th><th>Status</th><th>Last success</th><th>Rows in destination</th><th>Rows last run</th><th>Duration</th><th>Last error</th></tr></thead>
<tbody>
${tableRows.join("\n")}
</tbody>
</table>
<h2>Recent runs</h2>
${
    runRows.length === 0 ? `<p id="runs">No run yet.</p>` : `<table id="runs">
<thead><tr><th>Run</th><th>Started</th><th>Reason</th><th>Result</th><th>Duration</th><th>Rows written</th><th>Error</th></tr></thead>
<tbody>
${runRows.join("\n")}
</tbody>
</table>`
  }
<footer>act-sync ${escape(VERSION)} · started ${time(snapshot.started_at)} · page generated ${
    time(snapshot.now)
  }, refreshes every ${REFRESH_SECONDS} s · <a href="health">health</a> · <a href="state">state</a> · <a href="metrics">metrics</a></footer>
</body>
</html>
`;
}

function tableRow(name: string, view: TableView): string {
  const error = view.last_error && view.status === "failed"
    ? `${escape(view.last_error.message)} <small>(${time(view.last_error.at)})</small>`
    : "";
  return `<tr data-table="${escape(name)}"><td>${escape(name)}</td>` +
    `<td><span class="badge ${escape(view.status)}">${escape(view.status)}</span></td>` +
    `<td>${time(view.last_success)}</td>` +
    `<td class="n">${count(view.rows_total)}</td>` +
    `<td class="n">${count(view.rows_last_run)}</td>` +
    `<td class="n">${duration(view.duration_seconds)}</td>` +
    `<td class="error">${error}</td></tr>`;
}

function runRow(run: RunRecord): string {
  const result = run.result ?? "running";
  const rows = run.tables.reduce((sum, t) => sum + t.rows_written, 0) +
    (run.current?.rows ?? 0);
  const errors = [
    ...(run.error ? [run.error] : []),
    ...run.tables.filter((t) => t.status === "failed" && t.error && t.error !== run.error)
      .map((t) => `${t.table}: ${t.error}`),
  ];
  return `<tr data-run="${escape(run.id)}"><td><code>${escape(run.id)}</code></td>` +
    `<td>${time(run.started_at)}</td><td>${
      escape(run.kind === "sync" ? run.reason : `${run.kind} (${run.reason})`)
    }</td>` +
    `<td><span class="badge ${escape(result)}">${escape(result)}</span></td>` +
    `<td class="n">${duration(run.duration_seconds)}</td>` +
    `<td class="n">${count(rows)}</td>` +
    `<td class="error">${errors.map(escape).join("<br>")}</td></tr>`;
}

function time(iso: string | null | undefined): string {
  if (!iso) return "never";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escape(iso);
  const text = formatUtcForDisplay(ms);
  return `<time datetime="${escape(iso)}">${text}</time>`;
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

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}
