import { describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseConfig, redactConfig } from "../src/config/mod.ts";
import { createLogger } from "../src/core/log.ts";
import { ConfigError } from "../src/core/errors.ts";
import { Secrets } from "../src/core/secrets.ts";
import { type AlertMemory, detectAlerts, emptyMemory } from "../src/service/alerts.ts";
import type { Health, RunRecord } from "../src/service/monitor.ts";
import { Notifier } from "../src/service/notifier.ts";
import { startSmtpServer, startWebhookReceiver } from "./_receivers.ts";
import { email, SMTP_PASSWORD, TOKEN, webhook } from "./_alerts.ts";

function health(status: Health["status"], reason?: string): Health {
  return {
    status,
    ...(reason ? { reason } : {}),
    last_success: null,
    last_run: null,
    next_run: null,
    schedule_time_zone: "UTC",
    running: false,
    consecutive_failures: status === "failing" ? 1 : 0,
    table_age_seconds: {},
    act_waiting_seconds: null,
    act_last_answer_seconds: null,
    rejected: 0,
  };
}

function record(
  id: string,
  result: "ok" | "failed",
  tables: Partial<RunRecord["tables"][number]>[] = [],
): RunRecord {
  return {
    id,
    kind: "sync",
    reason: "schedule",
    started_at: "2026-01-01T00:00:00.000Z",
    finished_at: "2026-01-01T00:01:00.000Z",
    duration_seconds: 60,
    result,
    error: null,
    tables: tables.map((t) => ({
      table: "contacts",
      status: "ok",
      rows_read: 0,
      rows_written: 0,
      duration_seconds: 1,
      ...t,
    })),
    current: null,
  };
}

describe("detectAlerts()", () => {
  const events = ["failure", "recovery", "rejected_records", "schema_change", "stale"] as const;

  test("a failure lasting ten runs is one alert, then one recovery, also across a restart", () => {
    let memory: AlertMemory = emptyMemory();
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      const failed = record(`r${i}`, "failed", [
        { table: "history", status: "failed", error: "HTTP 500 from /api/history" },
      ]);
      const reason = "The last run failed: 1 of 1 tables failed (history)";
      const out = detectAlerts(memory, {
        record: failed,
        health: health("failing", reason),
        events,
        at: "2026-01-01T00:00:00.000Z",
      });
      sent.push(...out.alerts.map((a) => a.event));
      // A restart in the middle: the memory comes back from its file as JSON.
      memory = i === 4 ? JSON.parse(JSON.stringify(out.memory)) : out.memory;
      if (i === 0) {
        assert.match(out.alerts[0].text, /^What happened: The last run failed: 1 of 1 tables/);
        assert.match(out.alerts[0].text, /\nTables: history\nReason: HTTP 500 from/);
        assert.match(out.alerts[0].text, /\nWhat to do: .*act-sync check/);
      }
    }
    const ok = detectAlerts(memory, {
      record: record("r10", "ok"),
      health: health("ok"),
      events,
      at: "2026-01-01T00:00:00.000Z",
      statusUrl: "http://sync.example.lan:8787/",
    });
    sent.push(...ok.alerts.map((a) => a.event));
    assert.deepEqual(sent, ["failure", "recovery"]);
    assert.match(ok.alerts[0].text, /\nStatus page: http:\/\/sync\.example\.lan:8787\/$/);
    const again = detectAlerts(ok.memory, {
      record: record("r11", "ok"),
      health: health("ok"),
      events,
      at: "2026-01-01T00:00:00.000Z",
    });
    assert.deepEqual(again.alerts, []);
  });

  test("new columns, a new table and rejected records alert once each; not chosen, not sent", () => {
    const at = "2026-01-01T00:00:00.000Z";
    const changed = record("r1", "ok", [
      { table: "contacts", new_columns: ["customFields_user9"], rows_rejected: 2 },
      { table: "groups", new_table: true },
    ]);
    const first = detectAlerts(emptyMemory(), {
      record: changed,
      health: health("ok"),
      events,
      at,
    });
    assert.deepEqual(first.alerts.map((a) => a.event), ["rejected_records", "schema_change"]);
    assert.match(first.alerts[1].text, /Table contacts: new columns \(customFields_user9\)/);
    assert.match(first.alerts[1].text, /new table groups/);
    assert.match(first.alerts[0].text, /_act_rejected \(contacts 2\)/);
    const same = record("r2", "ok", [{ table: "contacts", rows_rejected: 2 }]);
    const second = detectAlerts(first.memory, { record: same, health: health("ok"), events, at });
    assert.deepEqual(second.alerts, [], "the same two rejected records: no second alert");
    // A table that failed before counting them reports 0: that does not end the event.
    const failed = record("r3", "failed", [{ table: "contacts", status: "failed" }]);
    const third = detectAlerts(second.memory, { record: failed, health: health("ok"), events, at });
    const again = detectAlerts(third.memory, { record: same, health: health("ok"), events, at });
    assert.deepEqual(again.alerts, [], "still the same two rejected records");
    const emptied = record("r4", "ok", [{ table: "contacts", rows_rejected: 0 }]);
    const fourth = detectAlerts(again.memory, {
      record: emptied,
      health: health("ok"),
      events,
      at,
    });
    const back = detectAlerts(fourth.memory, { record: same, health: health("ok"), events, at });
    assert.deepEqual(back.alerts.map((a) => a.event), ["rejected_records"], "kept again");
    const none = detectAlerts(emptyMemory(), {
      record: changed,
      health: health("ok"),
      events: ["failure"],
      at,
    });
    assert.deepEqual(none.alerts, []);
  });
});

describe("alert targets in the configuration", () => {
  test("a webhook URL and the SMTP password never appear in config output or errors", () => {
    const secrets = new Secrets();
    const raw = {
      hostname: "act.example.com",
      username: "u",
      password: "p",
      database_name: "d",
      notify: [{ url: `https://hooks.example.com/x/${TOKEN}`, format: "telegram" }],
    };
    assert.throws(
      () => parseConfig(raw, { baseDir: ".", secrets }),
      (error: ConfigError) => {
        assert.match(error.message, /'notify\[0\]\.format' must be one of "json", "teams"/);
        assert.ok(!error.message.includes(TOKEN));
        return true;
      },
    );
    assert.equal(secrets.redact(`see https://hooks.example.com/x/${TOKEN}`).includes(TOKEN), false);
    const good = {
      ...raw,
      notify: [raw.notify[0] && { ...raw.notify[0], format: "teams" }, email(25)],
    };
    assert.throws(
      () => parseConfig(good, { baseDir: "." }),
      /'notify\[1\]\.password_env' names ACT_TEST_SMTP_PASSWORD, which is not set/,
    );
    const { config } = parseConfig(good, {
      baseDir: ".",
      env: { ACT_TEST_SMTP_PASSWORD: SMTP_PASSWORD },
    });
    const shown = JSON.stringify(redactConfig(config));
    assert.ok(!shown.includes(TOKEN) && !shown.includes(SMTP_PASSWORD), shown);
    assert.match(shown, /https:\/\/hooks\.example\.com\/\*\*\*/);
  });

  test("the Notifier redacts the webhook URL and SMTP password from what it sends", async () => {
    const hook = await startWebhookReceiver();
    const smtp = await startSmtpServer({ user: "alerts", password: SMTP_PASSWORD });
    const config = parseConfig({
      hostname: "act.example.com",
      username: "u",
      password: "p",
      database_name: "d",
      notify: [webhook(hook.port, "slack"), email(smtp.port)],
    }, { baseDir: ".", env: { ACT_TEST_SMTP_PASSWORD: SMTP_PASSWORD } }).config;
    const logger = createLogger({ level: "INFO", write: () => {} });
    const notifier = new Notifier({ targets: config.notify, logger });
    try {
      const leak = `token ${TOKEN} url http://127.0.0.1:${hook.port}/hooks/${TOKEN} ` +
        `password ${SMTP_PASSWORD}`;
      const results = await notifier.test({
        event: "test",
        subject: `act-sync: ${SMTP_PASSWORD}`,
        text: leak,
        tables: [],
        at: "2026-01-01T00:00:00.000Z",
      });
      assert.deepEqual(results.map((r) => r.ok), [true, true], JSON.stringify(results));
      assert.equal(hook.hooks.length, 1);
      assert.equal(smtp.mails.length, 1);
      const sent = [hook.hooks[0].body, smtp.mails[0].data, smtp.mails[0].text];
      for (const text of sent) {
        assert.ok(!text.includes(TOKEN) && !text.includes(SMTP_PASSWORD), text);
      }
      assert.match(JSON.parse(hook.hooks[0].body).text, /^\*act-sync: \*\*\*\*\nto/);
    } finally {
      await hook.close();
      await smtp.close();
    }
  });
});

const TLS_DIR = fileURLToPath(new URL("./fixtures/tls/", import.meta.url));

describe("e-mail over TLS", () => {
  for (const mode of ["starttls", "tls"] as const) {
    test(`an alert goes out with "security": "${mode}", the login inside TLS`, async () => {
      const smtp = await startSmtpServer({
        user: "alerts",
        password: SMTP_PASSWORD,
        tls: {
          key: readFileSync(join(TLS_DIR, "server_key.pem"), "utf8"),
          cert: readFileSync(join(TLS_DIR, "server.pem"), "utf8"),
          mode,
        },
      });
      const config = parseConfig({
        hostname: "act.example.com",
        username: "u",
        password: "p",
        database_name: "d",
        notify: [{ ...email(smtp.port), smtp_host: "localhost", security: mode }],
      }, { baseDir: ".", env: { ACT_TEST_SMTP_PASSWORD: SMTP_PASSWORD } }).config;
      const notifier = new Notifier({
        targets: config.notify,
        logger: createLogger({ level: "INFO", write: () => {} }),
        smtp: { tls: { ca: readFileSync(join(TLS_DIR, "ca.pem"), "utf8") } },
      });
      try {
        const results = await notifier.test({
          event: "test",
          subject: "act-sync: test alert",
          text: "What happened: a test",
          tables: [],
          at: "2026-01-01T00:00:00.000Z",
        });
        assert.deepEqual(results, [{ target: results[0].target, ok: true }]);
        assert.equal(smtp.mails.length, 1);
        assert.equal(smtp.mails[0].tls, true);
        assert.equal(smtp.mails[0].user, "alerts");
      } finally {
        await smtp.close();
      }
    });
  }
});
