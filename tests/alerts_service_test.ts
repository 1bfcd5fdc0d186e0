import { describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startSimulator } from "../src/simulator/mod.ts";
import { DEFAULT_CUSTOM_ENTITIES, EXTRA_CUSTOM_ENTITY } from "../src/simulator/options.ts";
import { runChromium } from "../scripts/chromium.ts";
import { runCliProcess } from "./_helpers.ts";
import { startSmtpServer, startWebhookReceiver } from "./_receivers.ts";
import {
  configFor,
  email,
  folder,
  PASSWORD,
  SMTP_PASSWORD,
  startService,
  TOKEN,
  until,
  webhook,
} from "./_alerts.ts";

describe("alerts from the service", () => {
  test("three failed runs and a restart send one failure alert, then one recovery, to a webhook and by e-mail", async () => {
    const sim = await startSimulator({ records: 20, seed: 4, password: PASSWORD });
    const hook = await startWebhookReceiver();
    const smtp = await startSmtpServer({ user: "alerts", password: SMTP_PASSWORD });
    const where = folder();
    const config = configFor(sim, where, [webhook(hook.port), email(smtp.port)]);
    const fail = () =>
      sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/contacts" });
    try {
      let svc = await startService(config);
      assert.equal((await svc.run(1)).result, "ok");
      fail();
      assert.equal((await svc.sync(2)).result, "failed");
      await until(() => hook.hooks.length >= 1 && smtp.mails.length >= 1, "the failure alert");
      fail();
      assert.equal((await svc.sync(3)).result, "failed");
      assert.equal(await svc.stop(), 0);
      fail();
      svc = await startService(config);
      assert.equal((await svc.run(1)).result, "failed", "the start-up run after the restart");
      assert.equal((await svc.sync(2)).result, "ok");
      assert.equal(await svc.stop(), 0);

      const bodies = hook.hooks.map((h) => JSON.parse(h.body));
      assert.deepEqual(bodies.map((b) => b.event), ["failure", "recovery"]);
      assert.deepEqual(smtp.mails.map((m) => m.subject), [
        "act-sync: sync failing",
        "act-sync: sync working again",
      ]);
      const failure = bodies[0].text as string;
      assert.match(
        failure,
        new RegExp(
          // Of every table the run read: the configured ones, "custom_*" as the custom tables
          // Act! lists.
          `^What happened: The last run failed: 1 of \\d+ tables failed \\(contacts\\)`,
        ),
      );
      assert.match(failure, /\nTables: contacts\nReason: .*500/);
      assert.match(failure, /\nWhat to do: /);
      assert.equal(smtp.mails[0].text.replace(/\r\n/g, "\n"), failure);
      assert.deepEqual(smtp.mails[0].to, ["it@example.com"]);
      assert.equal(smtp.mails[0].user, "alerts");
      assert.equal(hook.hooks[0].path, `/hooks/${TOKEN}`);
      for (const text of [...hook.hooks.map((h) => h.body), ...smtp.mails.map((m) => m.data)]) {
        for (const secret of [PASSWORD, TOKEN, SMTP_PASSWORD]) {
          assert.ok(!text.includes(secret), `${secret} in ${text}`);
        }
      }
    } finally {
      await hook.close();
      await smtp.close();
      await sim.close();
    }
  });

  test("a receiver that never answers holds up no run; the alert is given up with a WARNING", async () => {
    const sim = await startSimulator({ records: 20, seed: 5, password: PASSWORD });
    const hook = await startWebhookReceiver({ hang: true });
    const config = configFor(sim, folder(), [webhook(hook.port)]);
    try {
      sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/contacts" });
      const svc = await startService(config, { attemptTimeoutMs: 600_000, closeWaitMs: 100 });
      assert.equal((await svc.run(1)).result, "failed");
      await until(() => hook.hooks.length === 1, "the failure alert to arrive");
      // The alert hangs (an attempt may take ten minutes); runs go on meanwhile.
      assert.equal((await svc.sync(2)).result, "ok");
      assert.equal((await svc.sync(3)).result, "ok");
      await until(() => hook.hooks.length === 2, "the recovery alert to arrive");
      assert.equal(hook.open, 2, "the failure and recovery alerts are both still unanswered");
      assert.equal(await svc.stop(), 0);
      const warnings = svc.lines.map((l) => JSON.parse(l))
        .filter((l) => l.level === "WARNING" && /^Cannot send the alert/.test(l.message));
      assert.equal(warnings.length, 2, svc.lines.join("\n"));
      assert.match(warnings[0].message, /to webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\* \(json\)/);
      assert.ok(!svc.lines.join("\n").includes(TOKEN));
    } finally {
      await hook.close();
      await sim.close();
    }
  });

  test("records kept in _act_rejected alert once each time their count goes up", async () => {
    const sim = await startSimulator({ records: 20, seed: 8, password: PASSWORD });
    const hook = await startWebhookReceiver();
    const config = configFor(sim, folder(), [webhook(hook.port)], {
      tables: ["contacts", "companies"],
      notify_on: ["rejected_records"],
    });
    const poison = (i: number) => {
      const id = String(sim.sim.rows("contacts")[i].id);
      sim.sim.edit("contacts", id, { lastName: `Changed ${i}` });
      sim.sim.switches.poison[id] = "deep";
    };
    const svc = await startService(config);
    try {
      assert.equal((await svc.run(1)).result, "ok");
      poison(0);
      assert.equal((await svc.sync(2)).result, "ok");
      await until(() => hook.hooks.length === 1, "the rejected_records alert");
      assert.equal((await svc.sync(3)).result, "ok"); // the same record still kept: no alert
      poison(1);
      assert.equal((await svc.sync(4)).result, "ok");
      await until(() => hook.hooks.length === 2, "the second rejected_records alert");
      assert.equal(await svc.stop(), 0);
      const bodies = hook.hooks.map((h) => JSON.parse(h.body));
      assert.deepEqual(bodies.map((b) => [b.event, b.tables]), [
        ["rejected_records", ["contacts"]],
        ["rejected_records", ["contacts"]],
      ]);
      assert.match(
        bodies[0].text,
        /^What happened: Run \w+ kept records that cannot be stored in _act_rejected \(contacts 1\)\n/,
      );
      assert.match(bodies[1].text, /\(contacts 2\)/);
    } finally {
      await hook.close();
      await sim.close();
    }
  });

  test("a field label renamed in Act! is one schema_change alert; a run without changes sends none", async () => {
    const sim = await startSimulator({ records: 20, seed: 9, password: PASSWORD });
    const hook = await startWebhookReceiver();
    const config = configFor(sim, folder(), [webhook(hook.port)], {
      tables: ["contacts", "field_labels"],
      notify_on: ["schema_change"],
    });
    const svc = await startService(config);
    try {
      assert.equal((await svc.run(1)).result, "ok");
      assert.equal((await svc.sync(2)).result, "ok");
      sim.sim.metadata.renameLabel("contact", "user6", "Referral Source");
      assert.equal((await svc.sync(3)).result, "ok");
      await until(() => hook.hooks.length === 1, "the schema_change alert");
      assert.equal(await svc.stop(), 0);
      assert.equal(hook.hooks.length, 1, hook.hooks.map((h) => h.body).join("\n"));
      const body = JSON.parse(hook.hooks[0].body);
      assert.equal(body.event, "schema_change");
      assert.deepEqual(body.tables, ["field_labels"]);
      assert.match(
        body.text,
        /^What happened: Run \w+: Table field_labels: 1 field label new, renamed or removed in Act!\n/,
      );
    } finally {
      await hook.close();
      await sim.close();
    }
  });
});

describe("schema_change for a custom table", () => {
  test("a custom table that appears in Act! sends one schema_change alert naming it", async () => {
    const sim = await startSimulator({ records: 10, seed: 5, password: PASSWORD });
    sim.sim.switches.customEntities = [...DEFAULT_CUSTOM_ENTITIES];
    const hook = await startWebhookReceiver();
    const config = configFor(sim, folder(), [webhook(hook.port)], {
      tables: ["contacts", "custom_*"],
      notify_on: ["schema_change"],
    });
    const svc = await startService(config);
    try {
      assert.equal((await svc.run(1)).result, "ok");
      sim.sim.switches.customEntities = [...DEFAULT_CUSTOM_ENTITIES, EXTRA_CUSTOM_ENTITY];
      // Its first sync fails: the alert is still sent, and the run that stores it sends none.
      sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/custom/entities/site" });
      assert.equal((await svc.sync(2)).result, "failed");
      await until(() => hook.hooks.length === 1, "the schema_change alert");
      assert.equal((await svc.sync(3)).result, "ok");
      assert.equal((await svc.sync(4)).result, "ok");
      assert.equal(await svc.stop(), 0);
      assert.equal(hook.hooks.length, 1, hook.hooks.map((h) => h.body).join("\n"));
      const body = JSON.parse(hook.hooks[0].body);
      assert.equal(body.event, "schema_change");
      assert.deepEqual(body.tables, ["custom_site_inspections"]);
      assert.match(
        body.text,
        /^What happened: Run \w+: new custom table custom_site_inspections \(Act! entity "Site Inspections"\)/,
      );
    } finally {
      await hook.close();
      await sim.close();
    }
  });
});

describe("act-sync notify --test", () => {
  test("reports each target; a wrong SMTP password exits 2 naming the variable", async () => {
    const hook = await startWebhookReceiver();
    const smtp = await startSmtpServer({ user: "alerts", password: SMTP_PASSWORD });
    const where = folder();
    writeFileSync(
      join(where, "configuration.json"),
      JSON.stringify({
        hostname: "act.example.com",
        username: "u",
        database_name: "d",
        state_file: join(where, "state.json"),
        notify: [webhook(hook.port, "teams"), email(smtp.port)],
      }),
    );
    try {
      const wrong = await runCliProcess(["notify", "--test"], {
        cwd: where,
        env: { ACT_TEST_SMTP_PASSWORD: "wrong-password-1" },
      });
      assert.equal(wrong.code, 2, wrong.stderr);
      assert.match(wrong.stdout, /^sent {4}webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\* \(teams\)$/m);
      assert.match(wrong.stdout, /^FAILED {2}email it@example\.com via 127\.0\.0\.1:\d+: .*535/m);
      assert.match(
        wrong.stderr,
        /the SMTP server refused the login: check 'user' and the password in ACT_TEST_SMTP_PASSWORD/,
      );
      assert.equal(smtp.mails.length, 0);
      const card = JSON.parse(hook.hooks[0].body);
      assert.equal(card["@type"], "MessageCard");
      assert.equal(card.title, "act-sync: test alert");

      const right = await runCliProcess(["notify", "--test"], {
        cwd: where,
        env: { ACT_TEST_SMTP_PASSWORD: SMTP_PASSWORD },
      });
      assert.equal(right.code, 0, right.stderr);
      assert.equal(smtp.mails.length, 1);
      assert.equal(smtp.mails[0].subject, "act-sync: test alert");
      assert.match(smtp.mails[0].text, /^What happened: A test alert from act-sync on /);
      for (const out of [wrong.stdout, wrong.stderr, right.stdout, right.stderr]) {
        assert.ok(!out.includes(TOKEN) && !out.includes(SMTP_PASSWORD), out);
      }
    } finally {
      await hook.close();
      await smtp.close();
    }
  });
});

const CHROMIUM = ["chromium", "chromium-browser"].find((name) =>
  spawnSync(name, ["--version"], { encoding: "utf8" }).status === 0
);

describe("alerts on the status page", () => {
  test(
    "headless Chromium shows each alert target, its URL redacted, and its last result",
    { skip: CHROMIUM ? false : "chromium not installed (apt-get install chromium)" },
    async () => {
      const sim = await startSimulator({ records: 20, seed: 6, password: PASSWORD });
      const hook = await startWebhookReceiver();
      const config = configFor(sim, folder(), [webhook(hook.port, "slack")]);
      sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/contacts" });
      const svc = await startService(config);
      try {
        assert.equal((await svc.run(1)).result, "failed");
        await until(() => hook.hooks.length === 1, "the failure alert");
        const dom = await runChromium(CHROMIUM!, folder(), ["--dump-dom", `${svc.base}/`]);
        const row = /<tr data-alert="0">(.*?)<\/tr>/.exec(dom)?.[1] ?? "";
        assert.match(row, /<td>webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\* \(slack\)<\/td>/, dom);
        assert.match(row, /class="badge ok">sent</);
        assert.match(row, /act-sync: sync failing/);
        assert.ok(!dom.includes(TOKEN));
        const metrics = await (await fetch(`${svc.base}/metrics`)).text();
        assert.match(metrics, /act_sync_alerts_total\{target="webhook [^"]+",result="sent"\} 1/);
      } finally {
        assert.equal(await svc.stop(), 0);
        await hook.close();
        await sim.close();
      }
    },
  );
});
