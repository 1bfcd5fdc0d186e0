/**
 * The status page's charts (src/service/charts.ts) and the run history behind them
 * (src/state/history.ts): points, scaling, empty history, one run, escaping, and a
 * history that survives a restart.
 */
import { describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { chartLayout, svgChart } from "../src/service/charts.ts";
import { Monitor } from "../src/service/monitor.ts";
import { renderStatusPage } from "../src/service/status_page.ts";
import { HISTORY_LIMIT, historyOf, type RunSummary, withRunSummary } from "../src/state/history.ts";
import type { State } from "../src/state/mod.ts";
import type { SyncRun } from "../src/jobs/sync.ts";

function summary(i: number, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id: `r${i}`,
    reason: "schedule",
    started_at: new Date(Date.UTC(2026, 2, 1, 0, i)).toISOString(),
    duration_seconds: i,
    result: "ok",
    rows_written: 10 * i,
    rows_new: i,
    rows_updated: i,
    rows_unchanged: 8 * i,
    rows_total: { contacts: 100 + i },
    ...extra,
  };
}

const circles = (svg: string) => svg.match(/<circle /g)?.length ?? 0;

describe("svgChart()", () => {
  test("one circle per value, a polyline through them, oldest on the left", () => {
    const svg = String(svgChart(
      [1, 2, 3].map((v) => ({ value: v, label: `v${v}`, kind: "ok" })),
      { title: "t", width: 108, height: 60 },
    ));
    assert.equal(circles(svg), 3);
    assert.match(svg, /<polyline points="4,42.3 54,28.7 104,15"><\/polyline>/);
    assert.match(svg, /<title>v1<\/title>/);
    assert.doesNotMatch(svg, /<script|href=/);
  });

  test("scales from 0 to the largest value; all zeros lie on the bottom line", () => {
    const { positions, min, max } = chartLayout([0, 5, 10], { width: 100, height: 24 });
    assert.deepEqual([min, max], [0, 10]);
    assert.deepEqual(positions.map((p) => p.y), [20, 12, 4]);
    const zeros = chartLayout([0, 0], { width: 100, height: 24 });
    assert.deepEqual(zeros.positions.map((p) => p.y), [20, 20]);
    assert.equal(zeros.max, 1);
  });

  test("without zero, the scale spans lowest to highest, so a few rows more show; a flat series lies in the middle", () => {
    const { positions, min, max } = chartLayout([1000, 1001, 1002], {
      width: 100,
      height: 24,
      zero: false,
    });
    assert.deepEqual([min, max], [1000, 1002]);
    assert.deepEqual(positions.map((p) => p.y), [20, 12, 4]);
    const flat = chartLayout([7, 7, 7], { width: 100, height: 24, zero: false });
    assert.deepEqual(flat.positions.map((p) => p.y), [12, 12, 12]);
  });

  test("no run: no SVG; one run: one point in the middle, no line", () => {
    assert.equal(String(svgChart([], { title: "t" })), "");
    const svg = String(svgChart([{ value: 4, label: "only" }], { title: "t", width: 200 }));
    assert.equal(circles(svg), 1);
    assert.match(svg, /<circle class="" cx="100" /);
    assert.doesNotMatch(svg, /<polyline/);
  });

  test("a null value leaves a gap: no point, the line is broken", () => {
    const svg = String(svgChart(
      [1, null, 2, 3].map((value) => ({ value, label: "x" })),
      { title: "t" },
    ));
    assert.equal(circles(svg), 3);
    assert.equal(svg.match(/<polyline /g)?.length, 1);
  });

  test("hostile labels, titles and table names are escaped", () => {
    const evil = `</title><script>alert("x")</script><svg onload="x">&`;
    const svg = String(svgChart([{ value: 1, label: evil, kind: `"><script>` }], {
      title: evil,
      id: `"><b>`,
    }));
    assert.doesNotMatch(svg, /<script|<b>|<svg onload/);
    assert.ok(svg.includes("&lt;script&gt;alert(&quot;x&quot;)"));
    const state: State = {
      table_cursors: {},
      table_batch_tracking: {},
      history: [summary(1, { id: evil, reason: evil, rows_total: { [evil]: 3 } })],
    };
    const monitor = new Monitor({
      tables: [evil as never],
      schedule: "* * * * *",
      intervalMs: 60_000,
      state,
    });
    const page = renderStatusPage(monitor.snapshot());
    assert.doesNotMatch(page, /<script|<svg onload/);
    assert.equal(circles(page), 3, "duration, rows written, the table's row count");
  });
});

describe("run history", () => {
  test("a state file without history has none; malformed entries are dropped", () => {
    assert.deepEqual(historyOf({ table_cursors: {}, table_batch_tracking: {} }), []);
    assert.deepEqual(historyOf({ table_cursors: {}, table_batch_tracking: {}, history: 3 }), []);
    const state: State = {
      table_cursors: {},
      table_batch_tracking: {},
      history: [summary(1), { id: "x" }, null, summary(2, { result: "weird" as never })],
    };
    assert.deepEqual(historyOf(state).map((s) => s.id), ["r1"]);
  });

  test(`keeps the newest ${HISTORY_LIMIT} runs, newest first, and other keys of the state`, () => {
    let state: State = {
      table_cursors: { contacts: "2026-03-01T00:00:00Z" },
      table_batch_tracking: {},
    };
    for (let i = 1; i <= HISTORY_LIMIT + 5; i++) state = withRunSummary(state, summary(i));
    const history = historyOf(state);
    assert.equal(history.length, HISTORY_LIMIT);
    assert.equal(history[0].id, `r${HISTORY_LIMIT + 5}`);
    assert.equal(history.at(-1)!.id, "r6");
    assert.equal(state.table_cursors.contacts, "2026-03-01T00:00:00Z");
  });

  test("the monitor keeps 50 runs, charts them, and starts from the state file's history", () => {
    let t = Date.parse("2026-03-01T12:00:00Z");
    const state: State = {
      table_cursors: {},
      table_batch_tracking: {},
      tables: { contacts: { rows_total: 200 } },
      history: [summary(2), summary(1)],
    };
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "* * * * *",
      intervalMs: 60_000,
      now: () => t,
      state,
    });
    const run: SyncRun = {
      ok: true,
      tables: [{
        table: "contacts",
        status: "ok",
        rowsRead: 5,
        rowsWritten: 5,
        changes: { inserted: 2, updated: 1, unchanged: 2 },
        newColumns: [],
        durationMs: 10,
        requests: 1,
        emptyFirstRead: false,
      }],
      state,
      startedAt: new Date(t).toISOString(),
      durationMs: 10,
    };
    for (let i = 0; i < 60; i++) {
      monitor.runStarted(`n${i}`, "schedule");
      t += 1000;
      monitor.runFinished(run);
    }
    const snapshot = monitor.snapshot();
    assert.equal(snapshot.runs.length, 50);
    assert.equal(snapshot.history.length, 50);
    assert.deepEqual(snapshot.history[0], {
      id: "n59",
      reason: "schedule",
      started_at: new Date(t - 1000).toISOString(),
      duration_seconds: 1,
      result: "ok",
      rows_written: 5,
      rows_new: 2,
      rows_updated: 1,
      rows_unchanged: 2,
      rows_total: { contacts: 200 },
    });
    const page = renderStatusPage(snapshot);
    const chart = /<svg id="chart-duration"[^]*?<\/svg>/.exec(page)?.[0] ?? "";
    assert.equal(circles(chart), 50);
    assert.equal(page.match(/<tr data-run=/g)?.length, 50);
  });

  test("after a restart, runs from the history are charted and listed as before the restart", () => {
    const state: State = {
      table_cursors: {},
      table_batch_tracking: {},
      history: [summary(2), summary(1, { result: "failed" })],
    };
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "* * * * *",
      intervalMs: 60_000,
      state,
    });
    const page = renderStatusPage(monitor.snapshot());
    const chart = /<svg id="chart-rows"[^]*?<\/svg>/.exec(page)?.[0] ?? "";
    assert.equal(circles(chart), 2);
    assert.match(chart, /<circle class="failed"/);
    const row = /<tr data-run="r2" class="earlier">(.*?)<\/tr>/.exec(page)?.[1] ?? "";
    assert.match(row, /before restart/);
    assert.ok(
      row.includes(
        `<td class="n">20</td><td class="n">2</td><td class="n">2</td><td class="n">16</td>`,
      ),
      row,
    );
  });
});
