// What a scheduled task sees: the log file explains every run and failure, exit codes a scheduler
// can act on (4: login refused), a host name that does not resolve is not retried.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningSimulator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { freePort, runCliProcess, spawnCli, tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-ops-");
after(() => rmSync(dir, { recursive: true, force: true }));

describe("--once and its log file", () => {
  let running: RunningSimulator;
  before(async () => {
    running = await startSimulator({ records: 20, seed: 5 });
  });
  after(() => running.close());

  function writeConfig(name: string, extra: Record<string, unknown>): string {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify(simulatorConfig(running.url, {
        destination: `sqlite:${name}.db`,
        state_file: `${name}-state.json`,
        log_file: `${name}.log`,
        max_retries: 0,
        ...extra,
      })),
    );
    return file;
  }

  test("a run logs 'Run ID started' and 'Run ID finished' with result, rows and seconds", async () => {
    const config = writeConfig("ok", {});
    const result = await runCliProcess(["--once", "--config", config]);
    assert.equal(result.code, 0, result.stderr);
    const log = readFileSync(join(dir, "ok.log"), "utf8");
    const started = log.match(/INFO\s+Run (\w+) started/);
    assert.ok(started, log);
    assert.match(
      log,
      new RegExp(`INFO\\s+Run ${started[1]} finished result=ok rows=\\d+ seconds=[\\d.]+`),
    );
  });

  test("a refused login exits 4 and the log file holds a SEVERE line with what to fix", async () => {
    const config = writeConfig("auth", { password: "wrong-Passw0rd-77" });
    const result = await runCliProcess(["--once", "--config", config]);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    const log = readFileSync(join(dir, "auth.log"), "utf8");
    assert.match(log, /SEVERE\s+Run \w+ failed: Failed to authenticate/);
    assert.match(log, /fix 'username', 'password'/);
    assert.match(log, /Run \w+ finished result=failed/);
    assert.doesNotMatch(log + result.stdout + result.stderr, /wrong-Passw0rd-77/);
  });

  test("a wrong database name is refused too (exit 4); JSON logs carry the SEVERE line", async () => {
    const config = writeConfig("db", { database_name: "NoSuchDb", log_format: "json" });
    const result = await runCliProcess(["--once", "--config", config]);
    assert.equal(result.code, 4, result.stdout + result.stderr);
    const lines = readFileSync(join(dir, "db.log"), "utf8").trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const severe = lines.find((l) => l.level === "SEVERE");
    assert.ok(severe, JSON.stringify(lines));
    assert.match(severe.message, /Failed to authenticate/);
    assert.ok(lines.every((l) => l.run === severe.run));
  });

  test("a port nobody listens on exits 1; the log names 'port' next to the reason", async () => {
    const config = writeConfig("port", { port: await freePort(), max_retries: 1 });
    const result = await runCliProcess(["--once", "--config", config]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const log = readFileSync(join(dir, "port.log"), "utf8");
    assert.match(log, /SEVERE\s+Run \w+ failed: .*check 'hostname' and 'port'/);
  });

  test("an unreachable PostgreSQL destination exits 1; the hint names 'destination', not check", async () => {
    const port = await freePort();
    const config = writeConfig("pgdown", {
      destination: `postgres://someone:Dest-Secret-pw9@127.0.0.1:${port}/crm`,
    });
    const result = await runCliProcess(["--once", "--config", config]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const log = readFileSync(join(dir, "pgdown.log"), "utf8");
    assert.match(log, /SEVERE\s+Run \w+ failed: Cannot connect to PostgreSQL.*connection refused/);
    assert.match(log, /check 'destination' \(or ACT_DESTINATION\): its host, port/);
    assert.doesNotMatch(log, /'act-sync check' tests the connection/);
    assert.doesNotMatch(log + result.stdout + result.stderr, /Dest-Secret-pw9/);
  });

  test("a host name that does not resolve is not retried; the error names 'hostname'", async () => {
    const config = writeConfig("dns", { hostname: "no-such-host.invalid", max_retries: 3 });
    const result = await runCliProcess(["--once", "--config", config]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const log = readFileSync(join(dir, "dns.log"), "utf8");
    assert.doesNotMatch(log, /Retrying/);
    assert.match(log, /SEVERE\s+Run \w+ failed: .*check 'hostname'/);
  });

  test("a held lock is logged as SEVERE and exits 3", async () => {
    const { acquireLock } = await import("../src/state/mod.ts");
    const config = writeConfig("lock", {});
    const lock = acquireLock(join(dir, "lock-state.json"));
    try {
      const result = await runCliProcess(["--once", "--config", config]);
      assert.equal(result.code, 3, result.stdout + result.stderr);
    } finally {
      lock.release();
    }
    assert.match(readFileSync(join(dir, "lock.log"), "utf8"), /SEVERE\s+Run \w+ failed: .*lock/i);
  });
});

describe("a refused login in every command that logs in", () => {
  let running: RunningSimulator;
  before(async () => {
    running = await startSimulator({ records: 20, seed: 6 });
  });
  after(() => running.close());

  const password = "wrong-Passw0rd-88";
  function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify(simulatorConfig(running.url, {
        password,
        destination: `sqlite:${name}.db`,
        state_file: `${name}-state.json`,
        log_file: `${name}.log`,
        max_retries: 0,
        ...extra,
      })),
    );
    return file;
  }

  for (const command of ["check", "reconcile"]) {
    test(`${command} exits 4 with a SEVERE line naming what to fix, never the password`, async () => {
      const config = writeConfig(`refused-${command}`);
      const result = await runCliProcess([command, "--config", config]);
      assert.equal(result.code, 4, result.stdout + result.stderr);
      const log = readFileSync(join(dir, `refused-${command}.log`), "utf8");
      assert.match(log, /SEVERE\s+\w+ failed: Failed to authenticate: check username/);
      assert.match(log, /fix 'username', 'password' \(or ACT_PASSWORD\) or 'database_name'/);
      assert.doesNotMatch(log + result.stdout + result.stderr, new RegExp(password));
    });
  }

  test("check and reconcile still exit 0 once the password is right", async () => {
    const config = writeConfig("right", { password: "demo" });
    assert.equal((await runCliProcess(["check", "--config", config])).code, 0);
    const sync = await runCliProcess(["--once", "--config", config]);
    assert.equal(sync.code, 0, sync.stderr);
    const reconcile = await runCliProcess(["reconcile", "--config", config]);
    assert.equal(reconcile.code, 0, reconcile.stdout + reconcile.stderr);
  });

  test("service mode logs SEVERE with what to fix and keeps running until stopped", async () => {
    const port = await freePort();
    const config = writeConfig("refused-service", { http_port: port });
    const service = spawnCli(["--config", config], { timeoutMs: 60_000 });
    await service.waitFor(/Run \w+ failed: Failed to authenticate/);
    await service.waitFor(/keeps running and tries again on its schedule/);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 503);
    assert.equal((await health.json()).status, "failing");
    assert.equal(service.child.exitCode, null, "still running");
    const stop = await runCliProcess(["stop", "--config", config]);
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    const result = await service.exit;
    assert.equal(result.code, 0, result.stderr);
    const log = readFileSync(join(dir, "refused-service.log"), "utf8");
    assert.match(log, /SEVERE\s+Run \w+ failed: Failed to authenticate.*fix 'username'/);
    assert.doesNotMatch(log + result.stdout + result.stderr, new RegExp(password));
  });
});
