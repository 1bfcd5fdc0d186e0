import { describe, postgresSkip, test } from "./_skip.ts";
import process from "node:process";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { hostname } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/mod.ts";
import { createLogger } from "../src/core/log.ts";
import { runCheck } from "../src/jobs/check.ts";
import { formatSummary, READ_VS_WRITTEN, runSync } from "../src/jobs/sync.ts";
import { runReconcile } from "../src/jobs/reconcile.ts";
import { Monitor } from "../src/service/monitor.ts";
import { plainText, renderStatusPage } from "../src/service/status_page.ts";
import { acquireLock } from "../src/state/mod.ts";
import { machineNames } from "../src/service/service.ts";
import { simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { sqliteCount } from "./_helpers.ts";
import { configFor, folder, PASSWORD, startService, until } from "./_alerts.ts";

function levels(lines: string[]): { level: string; message: string }[] {
  return lines.map((l) => JSON.parse(l));
}

function getWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("a run that finds the lock held", () => {
  test("is skipped at INFO, /health stays green, and it runs once the lock is free", async () => {
    const sim = await startSimulator({ records: 20, seed: 31, password: PASSWORD });
    const config = configFor(sim, folder(), []);
    const lock = acquireLock(config.state_file);
    const svc = await startService(config, {}, undefined, { lockRetryMs: 100 });
    try {
      await until(
        () => svc.lines.some((l) => l.includes("Skipped the start-up run")),
        "the skipped start-up run",
      );
      const health = await svc.health();
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "starting");
      assert.equal(health.body.consecutive_failures, 0);
      lock.release();
      assert.equal((await svc.run(1)).result, "ok");
      const logged = levels(svc.lines);
      const skipped = logged.filter((l) => /^Skipped the start-up run/.test(l.message));
      assert.equal(skipped[0].level, "INFO");
      assert.match(skipped[0].message, /another act-sync process holds the lock: .*trying again/);
      assert.deepEqual(logged.filter((l) => l.level === "SEVERE"), []);
      assert.equal((await svc.health()).body.status, "ok");
    } finally {
      lock.release();
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });
});

describe("a requested stop", () => {
  test("is logged at INFO, also when it comes while logging in", async () => {
    const sim = await startSimulator({ records: 10, seed: 32, password: PASSWORD });
    const config = configFor(sim, folder(), []);
    const lines: string[] = [];
    const logger = createLogger({ level: "INFO", format: "json", write: (l) => lines.push(l) });
    const run = await runSync(config, {}, { logger, signal: AbortSignal.abort() });
    assert.equal(run.stopped, true);
    assert.equal(run.error, undefined);
    assert.deepEqual(levels(lines).filter((l) => l.level === "SEVERE"), []);
    await sim.close();
  });

  test("mid-run, the service logs it at INFO as a stop on request", async () => {
    const sim = await startSimulator({ records: 40, seed: 33, password: PASSWORD });
    const config = configFor(sim, folder(), [], { batch_size: 10 });
    const svc = await startService(config);
    let stopping: Promise<number> | null = null;
    const unsubscribe = sim.sim.onRequest((info) => {
      if (info.n === 12 && !stopping) stopping = svc.stop();
    });
    try {
      const first = await svc.run(1);
      assert.equal(first.result, "stopped");
      assert.equal(await stopping, 0);
      const logged = levels(svc.lines).filter((l) => l.message.includes(first.id));
      const end = logged.find((l) => /stopped on request before completing/.test(l.message));
      assert.equal(end?.level, "INFO", JSON.stringify(logged));
      assert.deepEqual(logged.filter((l) => l.level !== "INFO" && l.level !== "FINE"), []);
    } finally {
      unsubscribe();
      await sim.close();
    }
  });
});

describe("this machine's own name", () => {
  test("is accepted in Host without being listed in http_allowed_hosts (no 421)", async () => {
    const sim = await startSimulator({ records: 10, seed: 34, password: PASSWORD });
    const svc = await startService(configFor(sim, folder(), []));
    try {
      const port = Number(new URL(svc.base).port);
      const name = hostname().toLowerCase();
      assert.ok(machineNames().includes(name));
      assert.notEqual(await getWithHost(port, "/health", `${name}:${port}`), 421);
      assert.equal(await getWithHost(port, "/health", `rebind.example.com:${port}`), 421);
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });
});

describe("act-sync check and the destination", () => {
  test("opens and writes to a SQLite destination", async () => {
    const sim = await startSimulator({ records: 10, seed: 35 });
    const where = folder();
    const config = parseConfig(
      simulatorConfig(sim.url, { destination: join(where, "act.db"), max_retries: 0 }),
      { baseDir: where },
    ).config;
    let out = "";
    const logger = createLogger({ write: () => {} });
    const result = await runCheck(config, { stdout: (t) => out += t, logger });
    assert.equal(result.ok, true, out);
    assert.match(out, /\nDestination OK: opened and wrote one row to _act_check\n$/);
    assert.equal(sqliteCount(join(where, "act.db"), "_act_check"), 1);
    await sim.close();
  });

  test("a wrong PostgreSQL password fails check, naming the destination without the password", {
    skip: postgresSkip(),
  }, async () => {
    const sim = await startSimulator({ records: 10, seed: 36 });
    const url = new URL(process.env.ACT_SYNC_TEST_PG!);
    url.password = "Wrong-pg-pass-1";
    const config = parseConfig(
      simulatorConfig(sim.url, { destination: url.href, max_retries: 0 }),
      { baseDir: folder() },
    ).config;
    let out = "";
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    logger.addSecret("Wrong-pg-pass-1");
    const result = await runCheck(config, { stdout: (t) => out += t, logger });
    assert.equal(result.ok, false);
    assert.match(out, /\nDestination failed: .*password/i);
    assert.ok(!(out + lines.join("\n")).includes("Wrong-pg-pass-1"));
    await sim.close();
  });
});

describe("messages", () => {
  const IIS = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"><html><head><title>500 - ` +
    `Internal server error.</title><style type="text/css">body{margin:0}</style></head><body>` +
    `<div id="content"><h2>There is a problem with the resource you are looking for, and it ` +
    `cannot be displayed.</h2></div></body></html>`;

  test("the status page shows an HTML error page quoted in an error as its text", () => {
    const message = `GET /api/contacts failed with status 500: ${IIS}`;
    assert.equal(
      plainText(message),
      "GET /api/contacts failed with status 500: 500 - Internal server error. There is a " +
        "problem with the resource you are looking for, and it cannot be displayed.",
    );
    assert.equal(plainText("a < b and c > d"), "a < b and c > d");
    // Markup that is not a page (a password with "<a&b>") is kept, so its redaction still matches.
    assert.equal(plainText(`Pw"Secr\\et1: <a&b> 'é`), `Pw"Secr\\et1: <a&b> 'é`);
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "*/15 * * * *",
      intervalMs: 900_000,
      state: {
        table_cursors: {},
        table_batch_tracking: {},
        tables: { contacts: { last_error: { message, at: "2026-03-01T00:00:00Z" } } },
      },
    });
    const page = renderStatusPage(monitor.snapshot());
    const row = /<tr data-table="contacts">(.*?)<\/tr>/.exec(page)?.[1] ?? "";
    assert.match(row, /500 - Internal server error\. There is a problem/);
    assert.doesNotMatch(row, /&lt;|DOCTYPE|<div/);
  });

  test("the summary says why read and written differ, only when they do", () => {
    const table = (read: number, written: number) => ({
      table: "contacts" as const,
      status: "ok" as const,
      rowsRead: read,
      rowsWritten: written,
      changes: { inserted: written, updated: 0, unchanged: 0 },
      newColumns: [],
      durationMs: 100,
      requests: 1,
      emptyFirstRead: false,
    });
    const run = (read: number, written: number) => ({
      ok: true,
      tables: [table(read, written)],
      state: { table_cursors: {}, table_batch_tracking: {} },
      startedAt: "2026-03-01T00:00:00Z",
      durationMs: 1000,
    });
    assert.ok(formatSummary(run(120, 100)).includes(READ_VS_WRITTEN));
    assert.match(READ_VS_WRITTEN, /read counts every record received, also those read again/);
    assert.ok(!formatSummary(run(100, 100)).includes(READ_VS_WRITTEN));
  });

  test("a dry-run reconcile says what a real one would change, or that nothing differs", async () => {
    const sim = await startSimulator({ records: 20, seed: 37, password: PASSWORD });
    const config = configFor(sim, folder(), [], { tables: ["contacts", "companies"] });
    const logger = createLogger({ write: () => {} });
    assert.equal((await runSync(config, {}, { logger })).ok, true);
    const [gone] = sim.sim.rows("contacts");
    sim.sim.remove("contacts", String(gone.id));
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (l) => lines.push(l) });
    await runReconcile(config, { dryRun: true }, { logger: log });
    const messages = levels(lines).map((l) => l.message);
    assert.ok(
      messages.includes(
        "Table contacts: dry run (nothing changed): a real reconcile would mark 1 row " +
          "deleted and fetch 0 rows missing here",
      ),
      messages.join("\n"),
    );
    assert.ok(messages.includes("Table companies: dry run: no differences, nothing to change"));
    await sim.close();
  });
});
