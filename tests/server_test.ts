import { describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import type { SyncRun } from "../src/jobs/sync.ts";
import { createLogger } from "../src/core/log.ts";
import { formatMetrics } from "../src/service/metrics.ts";
import { scheduleIntervalMs } from "../src/service/schedule.ts";
import { authorized, createApp } from "../src/service/app.ts";
import type { State } from "../src/state/mod.ts";
import { Monitor } from "../src/service/monitor.ts";
import type { TableName } from "../src/act/tables.ts";
import { PROMTOOL_SKIP, promtoolCheck } from "./_promtool.ts";

const T0 = Date.parse("2026-03-01T12:00:00Z");
const MINUTE = 60_000;

function clock(): { now: () => number; advance(ms: number): void } {
  let t = T0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function stateAt(iso: string, tables: TableName[], error?: { table: TableName; message: string }) {
  const state: State = { table_cursors: {}, table_batch_tracking: {}, tables: {} };
  for (const table of tables) {
    state.table_cursors[table] = iso;
    state.tables![table] = {
      last_success: iso,
      last_error: null,
      rows_last_run: 10,
      rows_total: 100,
      duration_seconds: 1.5,
    };
  }
  if (error) {
    state.tables![error.table] = {
      ...state.tables![error.table],
      last_error: { message: error.message, at: iso },
    };
  }
  return state;
}

function run(
  ok: boolean,
  state: State,
  failed: TableName[] = [],
  tables: TableName[] = ["contacts", "companies"],
): SyncRun {
  return {
    ok,
    tables: tables.map((table) => ({
      table,
      status: failed.includes(table) ? "failed" : "ok",
      rowsRead: 10,
      rowsWritten: 10,
      changes: { inserted: 4, updated: 3, unchanged: 3 },
      newColumns: [],
      durationMs: 1500,
      requests: 2,
      emptyFirstRead: false,
      ...(failed.includes(table) ? { error: `GET /api/${table} failed with status 500` } : {}),
    })),
    state,
    startedAt: new Date(T0).toISOString(),
    durationMs: 3000,
  };
}

function setup(options: { token?: string; secrets?: string[] } = {}) {
  const time = clock();
  const monitor = new Monitor({
    tables: ["contacts", "companies"],
    schedule: "*/15 * * * *",
    intervalMs: 15 * MINUTE,
    now: time.now,
    nextRun: () => new Date(time.now() + 15 * MINUTE),
  });
  const logger = createLogger({ level: "SEVERE", write: () => {} });
  for (const secret of options.secrets ?? []) logger.addSecret(secret);
  let started = 0;
  const app = createApp({
    monitor,
    token: options.token,
    logger,
    startRun: () => {
      if (monitor.running) return null;
      started++;
      monitor.runStarted(`run${started}`, "request");
      return `run${started}`;
    },
  });
  return { time, monitor, app, started: () => started };
}

describe("Monitor and /health", () => {
  test("GET /health is 200 ok after a successful run, with last success and next run", async () => {
    const { app, monitor, time } = setup();
    monitor.runStarted("a1", "start-up");
    time.advance(3000);
    monitor.runFinished(run(true, stateAt(new Date(time.now()).toISOString(), ["contacts"])));
    const response = await app.request("/health");
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.status, "ok");
    assert.equal(body.last_success, new Date(T0 + 3000).toISOString());
    assert.equal(body.next_run, new Date(T0 + 3000 + 15 * MINUTE).toISOString());
    assert.equal(body.running, false);
  });

  test("GET /health is 503 failing with the failed tables after a failed run, 200 after recovery", async () => {
    const { app, monitor, time } = setup();
    monitor.runStarted("a1", "schedule");
    monitor.runFinished(run(false, stateAt(new Date(T0).toISOString(), []), ["contacts"]));
    let response = await app.request("/health");
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.status, "failing");
    assert.match(body.reason, /1 of 2 tables failed \(contacts\)/);
    assert.doesNotMatch(body.reason, /\/api\//, "the open endpoint names no URL");
    time.advance(MINUTE);
    monitor.runStarted("a2", "schedule");
    monitor.runFinished(run(true, stateAt(new Date(time.now()).toISOString(), ["contacts"])));
    response = await app.request("/health");
    assert.equal(response.status, 200);
    assert.equal((await response.json()).status, "ok");
  });

  test("a run that fails before any table (lock, login) is failing too", async () => {
    const { app, monitor } = setup();
    monitor.runStarted("a1", "start-up");
    monitor.runCrashed(new Error("Another act-sync run (pid 1) holds the lock"));
    const response = await app.request("/health");
    assert.equal(response.status, 503);
    assert.match((await response.json()).reason, /before syncing any table/);
  });

  test("a stopped run does not count as a failure", async () => {
    const { app, monitor } = setup();
    monitor.runStarted("a1", "start-up");
    const stopped = run(false, stateAt(new Date(T0).toISOString(), []));
    stopped.tables[0].status = "stopped";
    monitor.runFinished(stopped);
    assert.equal(monitor.snapshot().last_run?.result, "stopped");
    assert.equal((await app.request("/health")).status, 200);
  });

  test("a sync and a reconcile cut short are stopped by one rule; a refused table is a failure", () => {
    const { monitor } = setup();
    const reconcile = (ok: boolean, statuses: ("ok" | "refused" | "failed" | "stopped")[]) => {
      monitor.runStarted("r", "request", "reconcile");
      return monitor.reconcileFinished({
        ok,
        tables: statuses.map((status, i) => ({
          table: (["contacts", "companies"] as const)[i],
          status,
          remote: 0,
          local: 0,
          deleted: 0,
          fetched: 0,
          refusedDeletes: 0,
          requests: 1,
          durationMs: 1,
        })),
        startedAt: new Date(T0).toISOString(),
        durationMs: 1,
      }).result;
    };
    // Stopped between two tables: the first done, the second never started.
    assert.equal(reconcile(false, ["ok"]), "stopped");
    assert.equal(reconcile(false, ["ok", "stopped"]), "stopped");
    assert.equal(reconcile(false, ["refused", "stopped"]), "failed");
    assert.equal(reconcile(false, ["failed"]), "failed");
    assert.equal(reconcile(true, ["ok", "ok"]), "ok");
    monitor.runStarted("s", "request");
    const sync = run(false, stateAt(new Date(T0).toISOString(), ["contacts"]), [], ["contacts"]);
    assert.equal(monitor.runFinished(sync).result, "stopped");
  });

  test("GET /health turns stale after three schedule intervals without success", async () => {
    const { app, monitor, time } = setup();
    monitor.runStarted("a1", "start-up");
    monitor.runFinished(run(true, stateAt(new Date(T0).toISOString(), ["contacts"])));
    time.advance(45 * MINUTE);
    assert.equal(
      (await app.request("/health")).status,
      200,
      "exactly three intervals is not stale",
    );
    time.advance(1000);
    const response = await app.request("/health");
    assert.equal(response.status, 503);
    const body = await response.json();
    assert.equal(body.status, "stale");
    assert.match(body.reason, /No run has succeeded since 2026-03-01T12:00:00.000Z/);
  });

  test("a service that never succeeded is stale three intervals after it started", async () => {
    const { app, time } = setup();
    time.advance(46 * MINUTE);
    const body = await (await app.request("/health")).json();
    assert.equal(body.status, "stale");
    assert.match(body.reason, /since the service started/);
  });

  test("last success after a restart comes from the state file (oldest table success)", () => {
    const state = stateAt("2026-03-01T11:00:00Z", ["contacts"]);
    state.tables!.companies = { last_success: "2026-03-01T11:30:00Z" };
    const monitor = new Monitor({
      tables: ["contacts", "companies"],
      schedule: "*/15 * * * *",
      intervalMs: 15 * MINUTE,
      now: () => T0,
      state,
    });
    const health = monitor.health();
    assert.equal(health.last_success, "2026-03-01T11:00:00.000Z");
    assert.equal(health.status, "stale");
  });

  test("scheduleIntervalMs() measures the cron pattern, seconds field included", () => {
    assert.equal(scheduleIntervalMs("*/15 * * * *"), 15 * MINUTE);
    assert.equal(scheduleIntervalMs("*/2 * * * * *"), 2000);
    assert.equal(scheduleIntervalMs("0 3 * * *"), 24 * 60 * MINUTE);
  });
});

describe("GET /state, /, POST /sync", () => {
  test("GET /state shows per-table status, the last error and the state file", async () => {
    const { app, monitor } = setup();
    monitor.runStarted("a1", "start-up");
    monitor.runFinished(
      run(
        false,
        stateAt(new Date(T0).toISOString(), ["contacts", "companies"], {
          table: "contacts",
          message: "GET /api/contacts failed with status 500",
        }),
        ["contacts"],
      ),
    );
    const response = await app.request("/state");
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.tables.contacts.status, "failed");
    assert.equal(
      body.tables.contacts.last_error.message,
      "GET /api/contacts failed with status 500",
    );
    assert.equal(body.tables.companies.status, "ok");
    assert.equal(body.tables.companies.rows_total, 100);
    assert.equal(body.tables.companies.rows_last_run, 10);
    assert.equal(body.tables.companies.duration_seconds, 1.5);
    assert.equal(body.state.table_cursors.companies, new Date(T0).toISOString());
    assert.equal(body.last_run.id, "a1");
    assert.equal(body.last_run.result, "failed");
    assert.equal(body.running, null);
    assert.equal(body.health.status, "failing");
  });

  test("GET /state shows the run in progress and its current table", async () => {
    const { app, monitor } = setup();
    monitor.runStarted("r9", "schedule");
    monitor.progress({ table: "companies", rows: 42, elapsedMs: 100 });
    const body = await (await app.request("/state")).json();
    assert.deepEqual(
      { id: body.running.id, current: body.running.current },
      { id: "r9", current: { table: "companies", rows: 42 } },
    );
    assert.equal(body.tables.companies.status, "running");
  });

  test("POST /sync starts a run (202), and answers 409 while one is running", async () => {
    const { app, started } = setup();
    const first = await app.request("/sync", { method: "POST" });
    assert.equal(first.status, 202);
    assert.deepEqual(await first.json(), { status: "started", run: "run1" });
    const second = await app.request("/sync", { method: "POST" });
    assert.equal(second.status, 409);
    assert.deepEqual(await second.json(), { status: "busy", run: "run1" });
    assert.equal(started(), 1);
  });

  test("GET / renders the status page with escaped errors and a refresh, no script", async () => {
    const { app, monitor } = setup();
    monitor.runStarted("a1", "start-up");
    monitor.runFinished(
      run(
        false,
        stateAt(new Date(T0).toISOString(), ["contacts", "companies"], {
          table: "contacts",
          message: "<b>bad</b> & worse",
        }),
        ["contacts"],
      ),
    );
    const response = await app.request("/");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    const html = await response.text();
    assert.match(html, /<meta http-equiv="refresh" content="\d+">/);
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /&lt;b&gt;bad&lt;\/b&gt; &amp; worse/);
    assert.doesNotMatch(html, /<b>bad<\/b>/);
    assert.match(html, /<tr data-table="contacts">.*failed/);
    assert.match(html, /<tr data-table="companies">.*>ok</);
    assert.match(html, /<tr data-run="a1">/);
  });

  test("unknown paths answer 404 JSON", async () => {
    const { app } = setup();
    const response = await app.request("/nope");
    assert.equal(response.status, 404);
    assert.match((await response.json()).error, /Not found: \/nope/);
  });
});

describe("authentication with http_token", () => {
  const token = "tok-3f9a1c7e55";
  for (
    const [method, path] of [["GET", "/state"], ["GET", "/metrics"], ["GET", "/"], [
      "POST",
      "/sync",
    ]]
  ) {
    test(`${method} ${path} without the token is 401, with it not`, async () => {
      const { app, started } = setup({ token });
      const denied = await app.request(path, { method });
      assert.equal(denied.status, 401);
      assert.match(denied.headers.get("www-authenticate") ?? "", /Bearer/);
      const wrong = await app.request(path, {
        method,
        headers: { authorization: "Bearer nope" },
      });
      assert.equal(wrong.status, 401);
      assert.equal(started(), 0, "a refused POST /sync starts nothing");
      const allowed = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.ok(allowed.status < 300, `status ${allowed.status}`);
      assert.ok(!(await denied.text()).includes(token));
    });
  }

  test("GET /health stays open with a token", async () => {
    const { app } = setup({ token });
    assert.equal((await app.request("/health")).status, 200);
  });

  test("authorized() accepts Bearer and Basic with the token as password only", () => {
    assert.equal(authorized(`Bearer ${token}`, token), true);
    assert.equal(authorized(`bearer ${token}`, token), true);
    assert.equal(authorized(`Basic ${btoa(`anyone:${token}`)}`, token), true);
    assert.equal(authorized(`Basic ${btoa(`${token}:x`)}`, token), false);
    assert.equal(authorized(`Bearer ${token}x`, token), false);
    assert.equal(authorized(`Token ${token}`, token), false);
    assert.equal(authorized(undefined, token), false);
    assert.equal(authorized("Basic !!!", token), false);
  });

  test("registered secrets are redacted from every response body", async () => {
    const secret = "hunter2-secret-password";
    const { app, monitor } = setup({ secrets: [secret] });
    monitor.runStarted("a1", "start-up");
    monitor.runCrashed(new Error(`login refused for password ${secret}`));
    for (const path of ["/health", "/state", "/metrics", "/"]) {
      const text = await (await app.request(path)).text();
      assert.ok(!text.includes(secret), `${path} leaks the secret`);
    }
    assert.match(await (await app.request("/state")).text(), /login refused for password \*\*\*/);
  });
});

describe("GET /metrics", () => {
  function busyMonitor() {
    const { app, monitor, time } = setup();
    monitor.runStarted("a1", "start-up");
    monitor.response({ method: "GET", url: "u", status: 200, ms: 5, rateLimitRemaining: 97 });
    monitor.response({ method: "GET", url: "u", status: 500, ms: 5, rateLimitRemaining: null });
    monitor.response({ method: "GET", url: "u", status: 0, ms: 5, rateLimitRemaining: null });
    time.advance(20_000);
    monitor.runFinished(
      run(
        false,
        stateAt(new Date(time.now()).toISOString(), ["contacts", "companies"], {
          table: "contacts",
          message: "boom",
        }),
        ["contacts"],
      ),
    );
    monitor.tickSkipped();
    monitor.runStarted("a2", "schedule");
    time.advance(2_000);
    monitor.runFinished(run(true, stateAt(new Date(time.now()).toISOString(), ["contacts"])));
    return { app, monitor };
  }

  test("GET /metrics names Prometheus-style series with the expected values", async () => {
    const { app } = busyMonitor();
    const response = await app.request("/metrics");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const expected = [
      `act_sync_runs_total{result="ok"} 1`,
      `act_sync_runs_total{result="failed"} 1`,
      `act_sync_runs_total{result="stopped"} 0`,
      `act_sync_rows_synced_total{table="contacts"} 20`,
      `act_sync_rows_synced_total{table="companies"} 20`,
      `act_sync_rows_new_total{table="contacts"} 8`,
      `act_sync_rows_updated_total{table="contacts"} 6`,
      `act_sync_rows_unchanged_total{table="contacts"} 6`,
      `act_sync_rows_new_total{table="companies"} 8`,
      `act_sync_http_requests_total{status="0"} 1`,
      `act_sync_http_requests_total{status="200"} 1`,
      `act_sync_http_requests_total{status="500"} 1`,
      `act_sync_rate_limit_remaining 97`,
      `act_sync_skipped_ticks_total 1`,
      `act_sync_run_duration_seconds_bucket{le="5"} 1`,
      `act_sync_run_duration_seconds_bucket{le="60"} 2`,
      `act_sync_run_duration_seconds_bucket{le="+Inf"} 2`,
      `act_sync_run_duration_seconds_sum 22`,
      `act_sync_run_duration_seconds_count 2`,
      `act_sync_last_success_timestamp_seconds{table="contacts"} ${(T0 + 22_000) / 1000}`,
      `act_sync_healthy 1`,
      `act_sync_running 0`,
    ];
    for (const line of expected) assert.ok(text.includes(`${line}\n`), `missing: ${line}`);
  });

  test("GET /metrics counts new, updated and unchanged rows per table, adding up to rows synced", async () => {
    const { app } = busyMonitor();
    const text = await (await app.request("/metrics")).text();
    for (const name of ["new", "updated", "unchanged"]) {
      assert.match(text, new RegExp(`^# TYPE act_sync_rows_${name}_total counter$`, "m"));
    }
    const value = (name: string, table: string) =>
      Number(
        new RegExp(`^act_sync_rows_${name}_total\\{table="${table}"\\} (\\d+)$`, "m").exec(text)
          ?.[1],
      );
    for (const table of ["contacts", "companies"]) {
      assert.equal(
        value("new", table) + value("updated", table) + value("unchanged", table),
        value("synced", table),
        table,
      );
    }
  });

  test("GET /metrics passes promtool check metrics", { skip: PROMTOOL_SKIP }, async () => {
    const { app } = busyMonitor();
    const result = promtoolCheck(await (await app.request("/metrics")).text());
    assert.deepEqual(result, { status: 0, output: "" });
  });

  test("promtool rejects broken text (the check can fail)", { skip: PROMTOOL_SKIP }, () => {
    const result = promtoolCheck(`act_sync_rows{table="contacts" 1\n`);
    assert.notEqual(result.status, 0);
  });

  function reconcileMetrics(): string {
    const { monitor } = setup();
    const snapshot = monitor.snapshot();
    snapshot.state = {
      ...snapshot.state,
      reconcile: {
        contacts: {
          at: "2026-01-02T03:00:00Z",
          status: "refused",
          remote: 10,
          local: 30,
          deleted: 0,
          fetched: 2,
          refused_deletes: 20,
          error: null,
        },
      },
    };
    return formatMetrics(snapshot);
  }

  test("formatMetrics() shows each table's last reconcile", () => {
    const text = reconcileMetrics();
    for (
      const line of [
        `act_sync_reconcile_timestamp_seconds{table="contacts"} ${
          Date.parse("2026-01-02T03:00:00Z") / 1000
        }`,
        `act_sync_reconcile_ok{table="contacts"} 0`,
        `act_sync_reconcile_fetched_rows{table="contacts"} 2`,
        `act_sync_reconcile_refused_deletes{table="contacts"} 20`,
      ]
    ) assert.ok(text.includes(`${line}\n`), `missing: ${line}`);
  });

  test("formatMetrics() with a reconcile passes promtool check metrics", {
    skip: PROMTOOL_SKIP,
  }, () => {
    assert.deepEqual(promtoolCheck(reconcileMetrics()), { status: 0, output: "" });
  });

  test("formatMetrics() escapes label values", () => {
    const { monitor } = setup();
    const snapshot = monitor.snapshot();
    snapshot.tables = { 'we"ird\\\n': { status: "never", cursor: null } };
    assert.match(formatMetrics(snapshot), /table="we\\"ird\\\\\\n"/);
  });
});

describe("hardening of the HTTP endpoint", () => {
  const token = "t0ken-for-the-tests";
  const password = `Pw"Secr\\et1: <a&b> 'é`;

  function app(options: { token?: string; host?: string; allowedHosts?: string[] } = {}) {
    const time = clock();
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "*/15 * * * *",
      intervalMs: 15 * MINUTE,
      now: time.now,
    });
    let started = 0;
    const hono = createApp({
      monitor,
      token: options.token,
      host: options.host ?? "127.0.0.1",
      allowedHosts: options.allowedHosts,
      warnings: ["The monitoring endpoint has no 'http_token'"],
      startRun: () => `run${++started}`,
    });
    return { app: hono, monitor, started: () => started };
  }

  test("a foreign Host is refused with 421 on every route (DNS rebinding)", async () => {
    const { app: hono, started } = app();
    for (
      const [method, path] of [["GET", "/state"], ["GET", "/"], ["GET", "/health"], [
        "POST",
        "/sync",
      ]]
    ) {
      const response = await hono.request(path, { method, headers: { host: "evil.example:8787" } });
      assert.equal(response.status, 421, `${method} ${path}`);
      assert.match((await response.json()).error, /http_allowed_hosts/);
    }
    assert.equal(started(), 0);
  });

  test("our own hosts pass, with or without port: localhost, loopback, the bound address, allowed names", async () => {
    const { app: hono } = app({ host: "192.168.1.20", allowedHosts: ["sync.example.lan"] });
    for (
      const host of [
        "localhost:8787",
        "127.0.0.1",
        "[::1]:8787",
        "192.168.1.20:8787",
        "SYNC.example.lan",
        "sync.example.lan:8787",
      ]
    ) {
      assert.equal((await hono.request("/state", { headers: { host } })).status, 200, host);
    }
    assert.equal(
      (await hono.request("/state", { headers: { host: "sync.example.lan.evil" } })).status,
      421,
    );
  });

  test("with a token, a request carrying it passes whatever its Host; without it, Host is checked", async () => {
    const { app: hono } = app({ token });
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal(
      (await hono.request("/state", { headers: { host: "monitor.example", ...bearer } })).status,
      200,
    );
    assert.equal(
      (await hono.request("/health", { headers: { host: "monitor.example" } })).status,
      421,
    );
    assert.equal((await hono.request("/health", { headers: { host: "localhost" } })).status, 200);
  });

  test("POST /sync from another site's form is refused with 403", async () => {
    const { app: hono, started } = app();
    for (
      const headers of <Record<string, string>[]> [
        { host: "127.0.0.1:8787", origin: "http://evil.example" },
        { host: "127.0.0.1:8787", origin: "null" },
        { host: "127.0.0.1:8787", origin: "http://127.0.0.1:9999" },
        { host: "127.0.0.1:8787", "sec-fetch-site": "cross-site" },
      ]
    ) {
      const response = await hono.request("/sync", { method: "POST", headers });
      assert.equal(response.status, 403, JSON.stringify(headers));
    }
    assert.equal(started(), 0, "a refused POST /sync starts nothing");
    const same = await hono.request("/sync", {
      method: "POST",
      headers: { host: "127.0.0.1:8787", origin: "http://127.0.0.1:8787" },
    });
    assert.equal(same.status, 202);
    assert.equal((await hono.request("/sync", { method: "POST" })).status, 202, "curl: no Origin");
  });

  test("POST /sync needs Bearer: a cached Basic credential is not enough", async () => {
    const { app: hono, started } = app({ token });
    const basic = await hono.request("/sync", {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`me:${token}`)}` },
    });
    assert.equal(basic.status, 401);
    assert.equal(started(), 0);
    const bearer = await hono.request("/sync", {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(bearer.status, 202);
    assert.equal(
      (await hono.request("/", { headers: { authorization: `Basic ${btoa(`me:${token}`)}` } }))
        .status,
      200,
      "Basic still opens the status page",
    );
  });

  test("the status page and /state show the warnings", async () => {
    const { app: hono } = app();
    assert.match(await (await hono.request("/")).text(), /Warning:.*has no &#39;http_token&#39;/);
    assert.deepEqual((await (await hono.request("/state")).json()).warnings, [
      "The monitoring endpoint has no 'http_token'",
    ]);
  });

  test("a password with quotes, backslashes and markup leaks in no escaped form", async () => {
    const { app: hono, monitor } = setup({ secrets: [password] });
    monitor.runStarted("a1", "start-up");
    monitor.runCrashed(new Error(`login refused for password ${password}`));
    for (const path of ["/state", "/metrics", "/"]) {
      const text = await (await hono.request(path)).text();
      assert.ok(!text.includes("Secr"), `${path} leaks the password: ${text.slice(0, 2000)}`);
    }
  });

  test("POST /stop: Bearer with a token, loopback without one, never from another site", async () => {
    const stopper = (options: { token?: string; host: string }) => {
      let stops = 0;
      const hono = createApp({
        monitor: new Monitor({ tables: ["contacts"], schedule: "* * * * *", intervalMs: MINUTE }),
        startRun: () => null,
        token: options.token,
        host: options.host,
        allowedHosts: ["act-sync.lan"],
        requestStop: () => stops++,
      });
      const post = async (headers: Record<string, string>) => {
        const response = await hono.request("/stop", { method: "POST", headers });
        return { status: response.status, error: (await response.json()).error as string };
      };
      return { post, stops: () => stops };
    };
    const open = stopper({ host: "127.0.0.1" });
    const cross = await open.post({ host: "127.0.0.1:8787", origin: "http://evil.example" });
    assert.deepEqual(cross, {
      status: 403,
      error: `Forbidden: POST /stop from another site: origin "http://evil.example"`,
    });
    assert.equal((await open.post({ "sec-fetch-site": "cross-site" })).status, 403);
    assert.equal(open.stops(), 0);
    assert.equal((await open.post({})).status, 202);
    assert.equal(open.stops(), 1);

    const exposed = stopper({ host: "0.0.0.0" });
    assert.deepEqual(await exposed.post({ host: "act-sync.lan" }), {
      status: 403,
      error: "Forbidden: POST /stop needs 'http_token' when 'http_host' is not a loopback address",
    });
    assert.equal(exposed.stops(), 0);

    const guarded = stopper({ token, host: "0.0.0.0" });
    assert.deepEqual(await guarded.post({ authorization: `Basic ${btoa(`me:${token}`)}` }), {
      status: 401,
      error: "Unauthorized: POST /stop needs 'Authorization: Bearer <http_token>'",
    });
    assert.equal(
      (await guarded.post({ authorization: `Bearer ${token}`, origin: "http://evil.example" }))
        .status,
      403,
    );
    assert.equal(guarded.stops(), 0);
    assert.equal((await guarded.post({ authorization: `Bearer ${token}` })).status, 202);
    assert.equal(guarded.stops(), 1);
  });
});
