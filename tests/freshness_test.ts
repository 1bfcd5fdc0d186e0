import { describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { parseConfig } from "../src/config/mod.ts";
import { Monitor } from "../src/service/monitor.ts";
import { formatMetrics } from "../src/service/metrics.ts";
import { renderStatusPage } from "../src/service/status_page.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { startWebhookReceiver } from "./_receivers.ts";
import { configFor, folder, PASSWORD, startService, until, webhook } from "./_alerts.ts";

const NOW = Date.parse("2026-03-02T12:00:00Z");
const HOUR = 3600_000;

function monitorWith(maxStaleness: Record<string, number>) {
  return new Monitor({
    tables: ["contacts", "history"],
    schedule: "*/15 * * * *",
    intervalMs: 24 * HOUR,
    now: () => NOW,
    maxStaleness,
    state: {
      table_cursors: {},
      table_batch_tracking: {},
      tables: {
        contacts: { last_success: new Date(NOW - 10 * 60_000).toISOString() },
        history: { last_success: new Date(NOW - 3 * HOUR).toISOString() },
      },
    },
  });
}

describe("max_staleness", () => {
  test("parseConfig() reads a duration per table, '*' for the others, or one for all", () => {
    const base = { hostname: "a.example", username: "u", password: "p", database_name: "d" };
    const parse = (value: unknown) =>
      parseConfig({ ...base, max_staleness: value }, { baseDir: "." }).config.max_staleness;
    assert.deepEqual(parse({ history: "2h", "*": "1d" }), { history: 7200, "*": 86_400 });
    assert.deepEqual(parse("90m"), { "*": 5400 });
    assert.deepEqual(parse('{"contacts": 3600}'), { contacts: 3600 });
    assert.deepEqual(parseConfig(base, { baseDir: "." }).config.max_staleness, {});
    assert.throws(
      () => parse({ histroy: "2h" }),
      /unknown table "histroy".*did you mean "history"/,
    );
    assert.throws(() => parse({ history: "30s" }), /'max_staleness\.history' must be a duration/);
  });

  test("/health is stale naming the table past its limit, while the other table is fresh", () => {
    const monitor = monitorWith({ history: 2 * 3600, "*": 86_400 });
    const health = monitor.health();
    assert.equal(health.status, "stale");
    assert.deepEqual(health.stale_tables, ["history"]);
    assert.match(
      health.reason ?? "",
      /^Table history has not synced successfully for 3 h \(since 2026-03-02T09:00:00\.000Z; 'max_staleness' is 2 h\)$/,
    );
    assert.deepEqual(health.table_age_seconds, { contacts: 600, history: 10_800 });
    const fresh = monitorWith({ history: 4 * 3600 }).health();
    assert.notEqual(fresh.status, "stale");
    assert.equal(fresh.stale_tables, undefined);
  });

  test("/metrics and the status page show each table's age and which is stale", () => {
    const snapshot = monitorWith({ history: 2 * 3600 }).snapshot();
    const metrics = formatMetrics(snapshot);
    assert.match(metrics, /^act_sync_table_age_seconds\{table="contacts"\} 600$/m);
    assert.match(metrics, /^act_sync_table_age_seconds\{table="history"\} 10800$/m);
    assert.match(metrics, /^act_sync_table_stale\{table="history"\} 1$/m);
    assert.match(metrics, /^act_sync_table_stale\{table="contacts"\} 0$/m);
    const page = renderStatusPage(snapshot);
    const row = (table: string) =>
      new RegExp(`<tr data-table="${table}">(.*?)</tr>`).exec(page)?.[1] ?? "";
    assert.match(row("history"), /<td class="n stale" data-age="10800">3 h 0 min \(stale\)<\/td>/);
    assert.match(row("contacts"), /<td class="n" data-age="600">10 min 0 s<\/td>/);
  });

  test("a table that keeps failing turns /health stale and alerts once, while the others sync", async () => {
    const sim = await startSimulator({ records: 20, seed: 12, password: PASSWORD });
    const hook = await startWebhookReceiver();
    const config = configFor(sim, folder(), [webhook(hook.port)], {
      max_staleness: { history: "1h" },
      unhealthy_after_failures: 5,
      tables: ["contacts", "companies", "history", "users"],
    });
    let offset = 0;
    const svc = await startService(config, {}, () => Date.now() + offset);
    try {
      assert.equal((await svc.run(1)).result, "ok");
      assert.equal((await svc.health()).body.status, "ok");
      offset = 2 * HOUR;
      // The path is a prefix: history_types (/api/history-types) is not synced here.
      sim.sim.inject({ kind: "status", status: 500, times: 2, path: "/api/history" });
      const second = await svc.sync(2);
      assert.deepEqual(second.tables.filter((t) => t.status !== "ok").map((t) => t.table), [
        "history",
      ]);
      const health = await svc.health();
      assert.equal(health.status, 503);
      assert.equal(health.body.status, "stale");
      assert.deepEqual(health.body.stale_tables, ["history"]);
      assert.match(
        String(health.body.reason),
        /^Table history has not synced successfully for 2 h/,
      );
      assert.equal((await svc.sync(3)).result, "failed");
      offset = 3 * HOUR;
      assert.equal((await svc.sync(4)).result, "ok");
      assert.equal((await svc.health()).body.status, "ok");
      await until(() => hook.hooks.length >= 2, "the stale and recovery alerts");
      assert.equal(await svc.stop(), 0);
      const events = hook.hooks.map((h) => JSON.parse(h.body));
      assert.deepEqual(events.map((e) => [e.event, e.tables]), [
        ["stale", ["history"]],
        ["recovery", ["history"]],
      ]);
      assert.match(events[0].text, /^What happened: Table history has not synced successfully/);
    } finally {
      await hook.close();
      await sim.close();
    }
  });
});
