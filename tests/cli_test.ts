import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import process from "node:process";
import { type RunningSimulator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { TABLE_NAMES } from "../src/act/tables.ts";
import { acquireLock } from "../src/state/mod.ts";
import { assertMirrors, cliCommand, runCliProcess, sqliteRows, tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-cli-");
after(() => rmSync(dir, { recursive: true, force: true }));

test("act-sync --help prints usage and exits 0; --version prints the version", async () => {
  const help = await runCliProcess(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /act-sync --once/);
  assert.match(help.stdout, /Exit codes/);
  const version = await runCliProcess(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^act-sync \d+\.\d+\.\d+/);
});

test("a bad configuration exits 2 naming the key and value, never the password", async () => {
  const folder = join(dir, "bad");
  mkdirSync(folder);
  const config = join(dir, "bad.json");
  writeFileSync(
    config,
    JSON.stringify({
      protocol: "http",
      hostname: "act.example.com",
      port: "70000",
      username: "demo",
      password: "s3cret-Passw0rd",
      database_name: "ActDemo",
    }),
  );
  const result = await runCliProcess(["--once", "--config", config], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Port must be between 1 and 65535/);
  assert.match(result.stderr, /70000/);
  assert.doesNotMatch(result.stdout + result.stderr, /s3cret-Passw0rd/);
  const usage = await runCliProcess(["--once", "--no-such-flag"], { cwd: dir });
  assert.equal(usage.code, 2);
  const missing = await runCliProcess(["--once"], { cwd: folder });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /configuration\.json/);
});

test("a numeric value out of range or a future default_start_date exits 2 naming key and range", async () => {
  const config = join(dir, "range.json");
  writeFileSync(
    config,
    JSON.stringify({
      protocol: "http",
      hostname: "act.example.com",
      username: "demo",
      password: "s3cret-Passw0rd",
      database_name: "ActDemo",
      request_timeout_seconds: 1e12,
      rate_limit_pause: 3000000,
      lookback_seconds: 99999999999999,
      default_start_date: "2999-01-01",
    }),
  );
  const result = await runCliProcess(["--once", "--config", config], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /'request_timeout_seconds' must be .* from 1 to 86400/);
  assert.match(result.stderr, /'rate_limit_pause' must be .* from 0 to 3600/);
  assert.match(result.stderr, /'lookback_seconds' must be .* from 0 to 31622400/);
  assert.match(result.stderr, /'default_start_date' is in the future/);
  assert.doesNotMatch(result.stdout + result.stderr, /s3cret-Passw0rd/);
});

describe("act-sync --once against the simulator", () => {
  let running: RunningSimulator;
  let folder: string;
  let config: string;
  before(async () => {
    running = await startSimulator({ records: 150, seed: 3 });
    folder = join(dir, "once");
    config = join(dir, "once.json");
    writeFileSync(
      config,
      "\uFEFF" + JSON.stringify(
        simulatorConfig(running.url, {
          password: undefined, // from ACT_PASSWORD
          batch_size: "100",
          rate_limit_pause: "0",
          destination: "sqlite:once/act.db",
          state_file: "once/state.json",
        }),
        null,
        2,
      ).replaceAll("\n", "\r\n"),
    );
  });
  after(() => running.close());

  test("syncs every table into SQLite and exits 0; the password comes from ACT_PASSWORD", async () => {
    const result = await runCliProcess(["--once", "--config", config], {
      env: { ACT_PASSWORD: "demo" },
    });
    assert.equal(result.code, 0, result.stderr);
    for (const table of TABLE_NAMES) {
      assertMirrors(table, running.sim.rows(table), sqliteRows(join(folder, "act.db"), table));
      assert.match(result.stdout, new RegExp(`^${table}\\s+\\d+`, "m"));
    }
    assert.doesNotMatch(result.stdout + result.stderr, /"demo"/);
    // state and reset never call Act!: no password needed.
    const state = await runCliProcess(["state", "--json", "--config", config]);
    assert.equal(state.code, 0);
    assert.ok(JSON.parse(state.stdout).table_cursors.contacts);
  });

  test("a second run while one holds the lock exits 3; once that run is killed, the next proceeds", async () => {
    const lockPath = join(folder, "state.json.lock");
    // The first run takes the lock, logs in, then waits on a slow first page.
    running.sim.inject({ kind: "slow", ms: 120_000 });
    const requested = new Promise<void>((resolve) => {
      const off = running.sim.onRequest(() => {
        off();
        resolve();
      });
    });
    const [command, ...prefix] = cliCommand();
    const first = spawn(command, [...prefix, "--once", "--config", config], {
      env: { ...process.env, NO_COLOR: "1", ACT_PASSWORD: "demo" },
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => first.once("exit", resolve));
    try {
      await Promise.race([requested, exited.then(() => assert.fail("the first run ended"))]);
      const second = await runCliProcess(["--once", "--config", config], {
        env: { ACT_PASSWORD: "demo" },
      });
      assert.equal(second.code, 3, second.stderr);
      assert.match(second.stderr, new RegExp(`\\(pid ${first.pid}, started .+\\) holds the lock`));
    } finally {
      first.kill("SIGKILL");
      await exited;
      running.sim.cancelDelays();
    }
    // The killed run's file still names it; its kernel lock went with it.
    assert.equal(JSON.parse(readFileSync(lockPath, "utf8")).pid, first.pid);
    const third = await runCliProcess(["--once", "--config", config], {
      env: { ACT_PASSWORD: "demo" },
    });
    assert.equal(third.code, 0, third.stderr);
    assert.equal(readFileSync(lockPath, "utf8"), "", "the run let its lock go");
  });

  test("a lock file naming a live act-sync that holds no kernel lock does not block", async () => {
    const lockPath = join(folder, "state.json.lock");
    // What act-sync's code writes for this very process (alive, same identity), left behind.
    const live = acquireLock(join(folder, "state.json"));
    const recorded = readFileSync(lockPath, "utf8");
    live.release();
    writeFileSync(lockPath, recorded);
    const result = await runCliProcess(["--once", "--config", config], {
      env: { ACT_PASSWORD: "demo" },
    });
    assert.equal(result.code, 0, result.stderr);
  });

  test("a corrupt state file stops the run with exit 1 and is left untouched", async () => {
    const statePath = join(folder, "state.json");
    const good = readFileSync(statePath, "utf8");
    writeFileSync(statePath, good.slice(0, 40));
    const result = await runCliProcess(["--once", "--config", config], {
      env: { ACT_PASSWORD: "demo" },
    });
    assert.equal(result.code, 1);
    assert.match(result.stdout + result.stderr, /state\.json" is corrupt/);
    assert.match(result.stdout + result.stderr, /act-sync reset/);
    assert.equal(readFileSync(statePath, "utf8"), good.slice(0, 40));
    const reset = await runCliProcess(["reset", "--config", config]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.ok(readdirSync(folder).some((f) => f.startsWith("state.json.corrupt-")));
    assert.deepEqual(JSON.parse(readFileSync(statePath, "utf8")).table_cursors, {});
    assert.ok(existsSync(join(folder, "act.db")));
  });

  test("wrong credentials fail with the authentication hint and exit 4", async () => {
    const result = await runCliProcess(["--once", "--config", config], {
      env: { ACT_PASSWORD: "wrong-password-123" },
    });
    assert.equal(result.code, 4);
    assert.match(result.stdout + result.stderr, /Failed to authenticate: check username/);
    assert.doesNotMatch(result.stdout + result.stderr, /wrong-password-123/);
  });
});
