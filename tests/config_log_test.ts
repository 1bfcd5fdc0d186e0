import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { runCliProcess, tempDir } from "./_helpers.ts";

let dir = "";
before(() => {
  dir = tempDir("act-sync-config-log-");
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a scheduled task that lacks the password: every ACT_ variable empty. */
const NO_ACT_ENV: Record<string, string> = {
  ACT_PASSWORD: "",
  ACT_SYNC_CONFIG: "",
  ACT_LOG_FILE: "",
  ACT_LOG_FORMAT: "",
};

function writeConfig(folder: string, extra: Record<string, unknown>): string {
  const file = join(folder, "configuration.json");
  writeFileSync(
    file,
    JSON.stringify({
      hostname: "act.example.com",
      username: "demo",
      database_name: "Demo",
      ...extra,
    }),
  );
  return file;
}

describe("a configuration error reaches the log file", () => {
  test("no password: exit 2, the reason on stderr and in the config's log_file", async () => {
    const folder = join(dir, "missing-password");
    const config = writeConfig(tempDirIn(folder), { log_file: "logs/act-sync.log" });
    const result = await runCliProcess(["--once", "--config", config], { env: NO_ACT_ENV });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /'password' is missing/);
    const log = readFileSync(join(folder, "logs", "act-sync.log"), "utf8");
    assert.match(log, /SEVERE +Cannot load config: .*'password' is missing/);
    assert.equal(log.trim().split("\n").length, 1, "one line");
    assert.match(result.stderr, /also written to ".*act-sync\.log"/);
  });

  test("other keys wrong too: every problem on one line, in JSON when log_format is json", async () => {
    const folder = join(dir, "several");
    const config = writeConfig(tempDirIn(folder), {
      log_file: "act-sync.log",
      log_format: "json",
      port: "not a port",
      password: "s3cret-Value-42",
      http_port: -1,
    });
    const result = await runCliProcess(["check", "--config", config], { env: NO_ACT_ENV });
    assert.equal(result.code, 2, result.stderr);
    const line = JSON.parse(readFileSync(join(folder, "act-sync.log"), "utf8").trim());
    assert.equal(line.level, "SEVERE");
    assert.equal(line.command, "check");
    assert.match(line.message, /^Cannot load config: .*'port'.*; .*'http_port'/);
    assert.doesNotMatch(readFileSync(join(folder, "act-sync.log"), "utf8"), /s3cret-Value-42/);
  });

  test("a config file that is not JSON: the log file from ACT_LOG_FILE", async () => {
    const folder = tempDirIn(join(dir, "not-json"));
    const config = join(folder, "configuration.json");
    writeFileSync(config, '{"hostname": "act.example.com",');
    const logFile = join(folder, "env.log");
    const result = await runCliProcess(["--once", "--config", config], {
      env: { ...NO_ACT_ENV, ACT_LOG_FILE: logFile },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(readFileSync(logFile, "utf8"), /SEVERE +Cannot load config: .*not valid JSON/);
  });

  test("no log_file named: act-sync.log beside a compiled executable, nothing from source", async () => {
    const exeDir = tempDirIn(join(dir, "exe"));
    const config = writeConfig(tempDirIn(join(dir, "no-log")), {});
    const lines: string[] = [];
    const common = {
      args: ["--once", "--config", config],
      env: NO_ACT_ENV,
      cwd: dir,
      isTty: false,
      stdout: () => {},
      stderr: (text: string) => void lines.push(text),
    };
    assert.equal(await runCli(common), 2);
    assert.ok(!existsSync(join(dir, "act-sync.log")), "from source: no default file");
    assert.equal(await runCli({ ...common, exeDir }), 2);
    assert.match(
      readFileSync(join(exeDir, "act-sync.log"), "utf8"),
      /SEVERE +Cannot load config: .*'password' is missing/,
    );
  });
});

function tempDirIn(folder: string): string {
  mkdirSync(folder, { recursive: true });
  return folder;
}
