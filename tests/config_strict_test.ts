import { after, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { loadConfig, parseConfig } from "../src/config/mod.ts";
import { ConfigError } from "../src/core/errors.ts";
import { cliCommand, tempDir } from "./_helpers.ts";

const PASSWORD = "Sup3r-S3cret!";
const SEED = {
  protocol: "https",
  hostname: "act.example.com",
  username: "John Hollo",
  password: PASSWORD,
  database_name: "ActDB",
};
const dir = tempDir("act-sync-config-strict-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** The messages of the ConfigError for `extra` (over SEED) and `env`. */
function problems(extra: Record<string, unknown>, env: Record<string, string> = {}): string[] {
  try {
    parseConfig({ ...SEED, ...extra }, { baseDir: dir, env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(extra)} ${JSON.stringify(env)}`);
}

function parsed(extra: Record<string, unknown>) {
  return parseConfig({ ...SEED, ...extra }, { baseDir: dir }).config;
}

describe("'http_token' is a token a Bearer header can carry", () => {
  test("a token with whitespace or non-ASCII inside is refused, naming the key, never the token", () => {
    for (const token of ["tok-abc def-9911", "tok-abc\tdef-9911", "tök-abcdef-9911"]) {
      for (
        const [extra, env, from] of [
          [{ http_token: token }, {}, ""],
          [{}, { ACT_HTTP_TOKEN: token }, " (from ACT_HTTP_TOKEN)"],
        ] as const
      ) {
        const issues = problems(extra, env);
        assert.deepEqual(issues, [
          `'http_token' must be printable ASCII without spaces: it is sent in the header ` +
          `'Authorization: Bearer <http_token>'${from}`,
        ]);
        for (const part of token.split(/\s/)) assert.ok(!issues[0].includes(part), issues[0]);
      }
    }
  });

  test("whitespace around a token is trimmed, and any printable ASCII is kept", () => {
    assert.equal(parsed({ http_token: "  tok-9911  " }).http_token, "tok-9911");
    const every = "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~";
    assert.equal(parsed({ http_token: every }).http_token, every);
  });
});

describe("numbers are decimal, as the messages say", () => {
  test("hex, exponent and other spellings Number() reads are refused for integer keys", () => {
    for (const value of ["0x10", "1e3", "0b11", "0o7", "Infinity", "1_000", "10.5", "10.0", "."]) {
      assert.deepEqual(problems({ batch_size: value }), [
        `'batch_size' must be an integer from 1 to 100000: current value is ${
          JSON.stringify(value)
        }`,
      ]);
    }
    assert.match(problems({ http_port: "0x50" })[0], /^'http_port' must be between 1 and 65535/);
    assert.match(problems({ port: "8e3" })[0], /^'port' must be between 1 and 65535/);
    assert.deepEqual(problems({}, { ACT_MAX_RETRIES: "1e1" }), [
      `'max_retries' must be an integer from 0 to 100: current value is "1e1" (from ACT_MAX_RETRIES)`,
    ]);
  });

  test("hex and exponent are refused for decimal keys; decimals with sign or fraction pass", () => {
    for (const value of ["1e-1", "0x1", "5E0", "-Infinity", "1,5"]) {
      assert.match(
        problems({ rate_limit_pause: value })[0],
        /^'rate_limit_pause' must be a number of seconds from 0 to 3600: current value is /,
        value,
      );
    }
    assert.equal(parsed({ rate_limit_pause: "0.5" }).rate_limit_pause, 0.5);
    assert.equal(parsed({ rate_limit_pause: ".5" }).rate_limit_pause, 0.5);
    assert.equal(parsed({ rate_limit_pause: " +2 " }).rate_limit_pause, 2);
    assert.equal(parsed({ max_delete_fraction: "1." }).max_delete_fraction, 1);
    assert.equal(parsed({ batch_size: " 250 " }).batch_size, 250);
    assert.equal(parsed({ http_port: "+8080" }).http_port, 8080);
    // A JSON number is a number whatever its spelling in the file: 1e3 is 1000.
    assert.equal(parsed({ batch_size: 1e3 }).batch_size, 1000);
  });
});

describe("keys written twice in configuration.json", () => {
  test("a warning names each key written twice and its lines; the last one is used", async () => {
    const file = join(dir, "twice.json");
    writeFileSync(
      file,
      [
        "{",
        '  "hostname": "act.example.com", "username": "John Hollo",',
        `  "password": "${PASSWORD}", "database_name": "ActDB",`,
        '  "batch_size": "500",',
        '  "endpoints": { "contacts": "/api/a", "contacts": "/api/b" },',
        '  "tables": ["contacts", "companies"],',
        '  "batch_size": "700"',
        "}",
      ].join("\r\n"),
    );
    const { config, warnings } = await loadConfig({ path: file, env: {}, cwd: dir });
    assert.equal(config.batch_size, 700);
    assert.equal(config.endpoints.contacts, "/api/b");
    assert.deepEqual(warnings, [
      `Key "batch_size" is written 2 times in the config file (lines 4, 7): ` +
      `the last one, on line 7, is used`,
      `Key "endpoints.contacts" is written 2 times in the config file (lines 5, 5): ` +
      `the last one, on line 5, is used`,
    ]);
  });

  test("no warning for a file without duplicates, nor for equal keys in different objects", async () => {
    const file = join(dir, "once.json");
    writeFileSync(
      file,
      JSON.stringify({
        ...SEED,
        endpoints: { contacts: "/api/contacts" },
        http_allowed_hosts: ["a.lan"],
        _comment: { contacts: "x" },
      }),
    );
    assert.deepEqual((await loadConfig({ path: file, env: {}, cwd: dir })).warnings, []);
  });
});

const posix = process.platform !== "win32";

/** `act-sync <args>` from source, killed after 60 s (a hang shows as a null exit code). */
function cli(args: string[]) {
  const [command, ...prefix] = cliCommand();
  return spawnSync(command, [...prefix, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 60_000,
    killSignal: "SIGKILL",
  });
}

describe("files that are not regular files", () => {
  test("a named pipe as the config file is refused at once with exit 2", {
    skip: posix ? false : "no mkfifo",
  }, () => {
    const fifo = join(dir, "config.fifo");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    const result = cli(["check", "--config", fifo]);
    assert.equal(result.status, 2, `exit code (null: it hung): ${result.stderr}`);
    assert.match(
      result.stderr,
      /Cannot read the config file ".*config\.fifo": it is a named pipe, not a regular file: give the path of the JSON file/,
    );
  });

  test("a folder as the config file is refused naming what it is", async () => {
    const folder = join(dir, "config-folder");
    mkdirSync(folder);
    await assert.rejects(
      loadConfig({ path: folder, env: {}, cwd: dir }),
      /Cannot read the config file ".*config-folder": it is a folder, not a regular file/,
    );
  });

  test("a named pipe as the state file is refused at once", {
    skip: posix ? false : "no mkfifo",
  }, () => {
    const folder = join(dir, "fifo-state");
    mkdirSync(folder);
    const fifo = join(folder, "state.json");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    const config = join(folder, "configuration.json");
    writeFileSync(config, JSON.stringify({ ...SEED, state_file: fifo }));
    const result = cli(["state", "--config", config]);
    assert.equal(result.status, 1, `exit code (null: it hung): ${result.stderr}`);
    assert.match(
      result.stderr,
      /Cannot read state file ".*state\.json": it is a named pipe, not a regular file/,
    );
  });
});
