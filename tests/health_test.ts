/**
 * `/health` as monitoring expects it: "starting" until the first run ends,
 * `unhealthy_after_failures`, and a run that fails before any table marks every table failing
 * in `/state`, the status page and `act_sync_table_failing`.
 */
import { describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { createLogger } from "../src/core/log.ts";
import { parseConfig } from "../src/config/mod.ts";
import type { SyncRun } from "../src/jobs/sync.ts";
import { createApp } from "../src/service/app.ts";
import { Monitor } from "../src/service/monitor.ts";
import type { State } from "../src/state/mod.ts";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const MINUTE = 60_000;

function setup(unhealthyAfterFailures?: number) {
  let t = T0;
  const state: State = {
    table_cursors: { contacts: "2026-03-01T11:50:00Z" },
    table_batch_tracking: {},
    tables: {
      contacts: { last_success: "2026-03-01T11:50:00Z", last_error: null, rows_total: 5 },
      companies: { last_success: "2026-03-01T11:50:00Z", last_error: null, rows_total: 5 },
    },
  };
  const monitor = new Monitor({
    tables: ["contacts", "companies"],
    schedule: "*/15 * * * *",
    intervalMs: 15 * MINUTE,
    now: () => t,
    state,
    unhealthyAfterFailures,
  });
  const app = createApp({
    monitor,
    logger: createLogger({ level: "SEVERE", write: () => {} }),
    startRun: () => null,
  });
  return { monitor, app, state, advance: (ms: number) => (t += ms) };
}

function failedBeforeTables(state: State): SyncRun {
  return {
    ok: false,
    tables: [],
    state,
    error: "Cannot reach the Act! Web API at http://act.example: connection refused",
    startedAt: new Date(T0).toISOString(),
    durationMs: 10,
  };
}

describe("/health", () => {
  test('200 "starting" until the first run has finished, then "ok"', async () => {
    const { app, monitor, state, advance } = setup();
    let response = await app.request("/health");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).status, "starting");
    monitor.runStarted("r1", "start-up");
    assert.equal((await (await app.request("/health")).json()).status, "starting");
    advance(1000);
    monitor.runFinished({ ...failedBeforeTables(state), ok: true, error: undefined });
    response = await app.request("/health");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).status, "ok");
    assert.match(await (await app.request("/metrics")).text(), /^act_sync_healthy 1$/m);
  });

  test("unhealthy_after_failures tolerates that many failed runs minus one", async () => {
    const { app, monitor, state, advance } = setup(2);
    monitor.runStarted("r1", "start-up");
    monitor.runFinished(failedBeforeTables(state));
    let response = await app.request("/health");
    let body = await response.json();
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.consecutive_failures, 1);
    advance(MINUTE);
    monitor.runStarted("r2", "schedule");
    monitor.runFinished(failedBeforeTables(state));
    response = await app.request("/health");
    body = await response.json();
    assert.equal(response.status, 503);
    assert.equal(body.status, "failing");
    assert.match(body.reason, /The last 2 runs failed before syncing any table/);
  });

  test("the key: default 1, range 1-100", () => {
    const base = {
      hostname: "act.example",
      username: "u",
      password: "p",
      database_name: "d",
    };
    assert.equal(parseConfig(base, { baseDir: "." }).config.unhealthy_after_failures, 1);
    assert.equal(
      parseConfig({ ...base, unhealthy_after_failures: "3" }, { baseDir: "." }).config
        .unhealthy_after_failures,
      3,
    );
    assert.throws(
      () => parseConfig({ ...base, unhealthy_after_failures: 0 }, { baseDir: "." }),
      /unhealthy_after_failures/,
    );
  });

  test("a run failing before any table shows every table as not synced", async () => {
    const { app, monitor, state } = setup();
    monitor.runStarted("r1", "start-up");
    monitor.runFinished(failedBeforeTables(state));
    const body = await (await app.request("/state")).json();
    assert.equal(body.tables.contacts.status, "failed");
    assert.equal(body.tables.companies.status, "failed");
    assert.match(body.tables.contacts.last_error.message, /connection refused/);
    const metrics = await (await app.request("/metrics")).text();
    assert.match(metrics, /^act_sync_table_failing\{table="contacts"\} 1$/m);
    assert.match(metrics, /^act_sync_table_failing\{table="companies"\} 1$/m);
    const page = await (await app.request("/")).text();
    assert.match(page, /connection refused/);
  });
});

describe("last_success: the end of the last run in which every table synced", () => {
  /** A service restarted after its last full run and a `--once --tables contacts` run. */
  function restarted(history: unknown[] | undefined) {
    const state: State = {
      table_cursors: {},
      table_batch_tracking: {},
      tables: {
        // Synced by `--once --tables contacts` after the service's last run.
        contacts: { last_success: "2026-03-01T11:59:00Z", last_error: null, rows_total: 5 },
        // Synced during the service's last run (11:40–11:45), before it ended.
        companies: { last_success: "2026-03-01T11:42:00Z", last_error: null, rows_total: 5 },
      },
      ...(history ? { history } : {}),
    };
    const monitor = new Monitor({
      tables: ["contacts", "companies"],
      schedule: "*/15 * * * *",
      intervalMs: 15 * MINUTE,
      now: () => T0,
      state,
    });
    const app = createApp({
      monitor,
      logger: createLogger({ level: "SEVERE", write: () => {} }),
      startRun: () => null,
    });
    return app;
  }

  const run = (id: string, started: string, seconds: number, result: string) => ({
    id,
    reason: "schedule",
    started_at: started,
    duration_seconds: seconds,
    result,
    rows_written: 0,
    rows_new: 0,
    rows_updated: 0,
    rows_unchanged: 0,
    rows_total: {},
  });

  test("after a restart: the end of the newest ok run in the history, in /health and /metrics", async () => {
    const app = restarted([
      run("c", "2026-03-01T11:50:00Z", 30, "failed"),
      run("b", "2026-03-01T11:40:00Z", 300, "ok"),
      run("a", "2026-03-01T11:25:00Z", 300, "ok"),
    ]);
    const health = await (await app.request("/health")).json();
    assert.equal(health.last_success, "2026-03-01T11:45:00.000Z");
    const metrics = await (await app.request("/metrics")).text();
    const end = Date.parse("2026-03-01T11:45:00Z") / 1000;
    assert.match(
      metrics,
      new RegExp(`^act_sync_last_run_success_timestamp_seconds ${end}$`, "m"),
    );
  });

  test("without a history (older state file, --once only): the oldest table's last success", async () => {
    const app = restarted(undefined);
    const health = await (await app.request("/health")).json();
    assert.equal(health.last_success, "2026-03-01T11:42:00.000Z");
  });
});
