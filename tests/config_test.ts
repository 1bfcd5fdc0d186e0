import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import {
  type Config,
  CONFIG_KEYS,
  ConfigSchema,
  envName,
  loadConfig,
  parseConfig,
  redactConfig,
} from "../src/config/mod.ts";
import { ConfigError } from "../src/core/errors.ts";
import { Secrets } from "../src/core/secrets.ts";
import { TABLE_NAMES } from "../src/act/tables.ts";
import { tempDir } from "./_helpers.ts";

const PASSWORD = "Sup3r-S3cret!";
const TOKEN = "tok-abcdef-123456";
const BASE = "/srv/act-sync";

/** The configuration.json of the Python connector act-sync replaces: every value a string. */
const SEED = {
  protocol: "https",
  hostname: "act.example.com",
  port: "",
  api_path: "/act.web.api",
  username: "John Hollo",
  password: PASSWORD,
  database_name: "ActDB",
  batch_size: "10000",
  rate_limit_pause: "0.25",
  default_start_date: "1900-01-01T00:00:00Z",
};

function parse(
  extra: Record<string, unknown> = {},
  options: { env?: Record<string, string | undefined>; overrides?: Record<string, unknown> } = {},
): { config: Config; warnings: string[] } {
  return parseConfig({ ...SEED, ...extra }, { baseDir: BASE, ...options });
}

/** The ConfigError thrown for `extra`; asserts that no secret leaks into it. */
function fail(
  extra: Record<string, unknown>,
  options: { env?: Record<string, string | undefined>; overrides?: Record<string, unknown> } = {},
): ConfigError {
  try {
    parse(extra, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    for (const text of [error.message, ...error.issues]) {
      assert.ok(!text.includes(PASSWORD), `the password leaked: ${text}`);
      assert.ok(!text.includes(TOKEN), `the token leaked: ${text}`);
    }
    return error;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(extra)}`);
}

/** Asserts one issue mentions the key and every given fragment (the bad value). */
function assertIssue(error: ConfigError, key: string, ...fragments: string[]): void {
  const issue = error.issues.find((i) => i.includes(`'${key}'`));
  assert.ok(issue, `no issue names '${key}': ${error.issues.join(" | ")}`);
  for (const fragment of fragments) {
    assert.ok(issue.includes(fragment), `issue for '${key}' lacks ${fragment}: ${issue}`);
  }
}

describe("parseConfig()", () => {
  test("'http_allowed_hosts' takes a list or a comma-separated string and refuses a port", () => {
    assert.deepEqual(parse().config.http_allowed_hosts, []);
    assert.deepEqual(
      parse({ http_allowed_hosts: "Sync.Example.lan, [fe80::1]" }).config.http_allowed_hosts,
      ["sync.example.lan", "fe80::1"],
    );
    assert.deepEqual(parse({ http_allowed_hosts: ["a.lan"] }).config.http_allowed_hosts, ["a.lan"]);
    assert.throws(
      () => parse({ http_allowed_hosts: "a.lan:8787" }),
      /'http_allowed_hosts' must hold host names/,
    );
  });

  test("accepts the Python connector's all-string file and fills in the defaults", () => {
    const { config, warnings } = parse();
    assert.deepEqual(warnings, []);
    assert.equal(config.protocol, "https");
    assert.equal(config.hostname, "act.example.com");
    assert.equal(config.port, null);
    assert.equal(config.api_path, "/act.web.api");
    assert.equal(config.username, "John Hollo");
    assert.equal(config.password, PASSWORD);
    assert.equal(config.database_name, "ActDB");
    assert.equal(config.batch_size, 10000);
    assert.equal(config.rate_limit_pause, 0.25);
    assert.equal(config.default_start_date, "1900-01-01T00:00:00Z");
    assert.equal(config.destination, `sqlite:${join(BASE, "act.db")}`);
    assert.equal(config.state_file, join(BASE, "state.json"));
    assert.deepEqual(config.tables, [...TABLE_NAMES]);
    assert.equal(config.schedule, "*/15 * * * *");
    assert.equal(config.reconcile_schedule, "0 3 * * *");
    assert.equal(config.http_host, "127.0.0.1");
    assert.equal(config.http_port, 8787);
    assert.equal(config.http_token, undefined);
    assert.equal(config.lookback_seconds, 60);
    assert.equal(config.request_timeout_seconds, 120);
    assert.equal(config.max_retries, 3);
    assert.deepEqual(config.endpoints, {});
    assert.equal(config.log_level, "INFO");
    assert.equal(config.log_format, "text");
    assert.equal(config.log_file, undefined);
    assert.equal(config.log_max_bytes, 10 * 1024 * 1024);
    assert.equal(config.ca_file, undefined);
    assert.equal(config.tls_verify, true);
    assert.equal(config.max_delete_fraction, 0.5);
    assert.deepEqual(Object.keys(config).sort(), [...CONFIG_KEYS].sort());
  });

  test("treats strings and JSON numbers/booleans alike", () => {
    const strings = parse({
      port: "8443",
      batch_size: "500",
      rate_limit_pause: "1.5",
      http_port: "9000",
      lookback_seconds: "0",
      request_timeout_seconds: "30",
      max_retries: "5",
      log_max_bytes: "2048",
      tls_verify: "false",
      max_delete_fraction: "0.1",
    }).config;
    const numbers = parse({
      port: 8443,
      batch_size: 500,
      rate_limit_pause: 1.5,
      http_port: 9000,
      lookback_seconds: 0,
      request_timeout_seconds: 30,
      max_retries: 5,
      log_max_bytes: 2048,
      tls_verify: false,
      max_delete_fraction: 0.1,
    }).config;
    assert.deepEqual(strings, numbers);
    assert.equal(numbers.port, 8443);
    assert.equal(numbers.batch_size, 500);
    assert.equal(numbers.tls_verify, false);
  });

  test("rejects a protocol other than http/https", () => {
    assertIssue(fail({ protocol: "ftp" }), "protocol", '"ftp"', '"http"', '"https"');
    assert.equal(parse({ protocol: "HTTP" }).config.protocol, "http");
  });

  test("names each missing required key and says ACT_PASSWORD can supply the password", () => {
    const error = fail({ hostname: "", username: undefined, password: "", database_name: null });
    assertIssue(error, "hostname", "missing", "ACT_HOSTNAME");
    assertIssue(error, "username", "missing", "ACT_USERNAME");
    assertIssue(error, "password", "missing", "ACT_PASSWORD");
    assertIssue(error, "database_name", "missing", "ACT_DATABASE_NAME");
    assert.equal(error.issues.length, 4);
    assert.match(error.message, /^Cannot load config:/);
  });

  test("splits a hostname written as a URL into its keys, with a warning", () => {
    const { config, warnings } = parse({
      hostname: "https://act.example.com:8443/act.web.api",
    });
    assert.equal(config.protocol, "https");
    assert.equal(config.hostname, "act.example.com");
    assert.equal(config.port, 8443);
    assert.equal(config.api_path, "/act.web.api");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /'hostname' should be a bare host name/);
    assert.ok(warnings[0].includes('"hostname": "act.example.com"'), warnings[0]);
    assert.ok(warnings[0].includes('"port": "8443"'), warnings[0]);
  });

  test("splits host:port without a scheme", () => {
    const { config, warnings } = parse({ hostname: "192.168.7.27:8080", protocol: "http" });
    assert.equal(config.hostname, "192.168.7.27");
    assert.equal(config.port, 8080);
    assert.equal(config.protocol, "http");
    assert.equal(warnings.length, 1);
  });

  test("rejects a hostname URL that contradicts the other keys, with the fix", () => {
    const error = fail({ hostname: "http://act.example.com:8443/act.web.api", protocol: "https" });
    assertIssue(
      error,
      "hostname",
      '"http://act.example.com:8443/act.web.api"',
      '"hostname": "act.example.com"',
    );
  });

  test("accepts an IPv6 literal as hostname", () => {
    assert.equal(parse({ hostname: "::1" }).config.hostname, "::1");
    assert.equal(parse({ hostname: "[fe80::1]" }).config.hostname, "fe80::1");
  });

  test("rejects a port outside 1-65535 with the documented phrase", () => {
    for (const port of ["70000", "0", "abc", 80.5, -1]) {
      const error = fail({ port });
      assertIssue(error, "port", "Port must be between 1 and 65535", JSON.stringify(String(port)));
    }
    assertIssue(fail({ http_port: "70000" }), "http_port", "Port must be between 1 and 65535");
    assert.equal(parse({ port: null }).config.port, null);
  });

  test("adds a missing leading slash to api_path with a warning and strips a trailing one", () => {
    const { config, warnings } = parse({ api_path: "act.web.api/" });
    assert.equal(config.api_path, "/act.web.api");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /'api_path' should start with "\/"/);
    assert.deepEqual(parse({ api_path: "/act.web.api/" }).warnings, []);
    assert.equal(parse({ api_path: "/act.web.api/" }).config.api_path, "/act.web.api");
  });

  test("rejects a batch_size that is not an integer from 1 to 100000", () => {
    for (const batch_size of ["0", "1.5", "abc", -5, true, "100001", 1e12]) {
      assertIssue(
        fail({ batch_size }),
        "batch_size",
        "from 1 to 100000",
        JSON.stringify(String(batch_size)),
      );
    }
    assert.equal(parse({ batch_size: 100_000 }).config.batch_size, 100_000);
  });

  test("every numeric key has a range: a value past either end is refused naming key and range", () => {
    // [key, lowest accepted, highest accepted, a value below, a value above]
    const ranges: [string, number, number, unknown, unknown][] = [
      ["port", 1, 65535, 0, 65536],
      ["http_port", 1, 65535, 0, 65536],
      ["batch_size", 1, 100_000, 0, 100_001],
      ["rate_limit_pause", 0, 3600, -0.5, 3_000_000],
      ["lookback_seconds", 0, 31_622_400, -1, 99_999_999_999_999],
      ["request_timeout_seconds", 1, 86_400, 0.5, 1e12],
      ["connect_timeout_seconds", 0, 300, -1, 301],
      ["max_retries", 0, 100, -1, 1_000_000],
      ["max_parallel_requests", 1, 16, 0, 17],
      ["unhealthy_after_failures", 1, 100, 0, 101],
      ["log_max_bytes", 1024, 1_073_741_824, 1023, 2 ** 31],
      ["max_delete_fraction", 0, 1, -0.1, 1.5],
    ];
    for (const [key, low, high, below, above] of ranges) {
      assert.equal(parse({ [key]: low }).config[key as keyof Config], low, key);
      assert.equal(parse({ [key]: String(high) }).config[key as keyof Config], high, key);
      for (const bad of [below, above]) {
        const range = key.endsWith("port") ? `between ${low} and ${high}` : `${low} to ${high}`;
        assertIssue(fail({ [key]: bad }), key, range, JSON.stringify(String(bad)));
      }
    }
    // Every numeric key of the schema is in the list above.
    const numeric = CONFIG_KEYS.filter((key) => typeof parse().config[key] === "number");
    assert.deepEqual(
      numeric.filter((key) => !ranges.some(([k]) => k === key)),
      [],
    );
  });

  test("refuses a default_start_date in the future when given the clock", () => {
    const now = Date.parse("2026-05-01T00:00:00Z");
    const error = (() => {
      try {
        parseConfig({ ...SEED, default_start_date: "2026-05-02" }, { baseDir: BASE, now });
      } catch (error) {
        return error as ConfigError;
      }
      assert.fail("expected a ConfigError");
    })();
    assertIssue(error, "default_start_date", "in the future", '"2026-05-02T00:00:00Z"');
    const past = parseConfig({ ...SEED, default_start_date: "2026-04-30" }, { baseDir: BASE, now });
    assert.equal(past.config.default_start_date, "2026-04-30T00:00:00Z");
  });

  test("rejects a negative or non-numeric rate_limit_pause", () => {
    assertIssue(fail({ rate_limit_pause: "-1" }), "rate_limit_pause", '"-1"');
    assertIssue(fail({ rate_limit_pause: "fast" }), "rate_limit_pause", '"fast"');
    assert.equal(parse({ rate_limit_pause: 0 }).config.rate_limit_pause, 0);
  });

  test("normalises default_start_date to UTC and rejects non-ISO values", () => {
    const date = (d: string) => parse({ default_start_date: d }).config.default_start_date;
    assert.equal(date("2024-01-01"), "2024-01-01T00:00:00Z");
    assert.equal(date("2024-01-01T10:00:00+02:00"), "2024-01-01T08:00:00Z");
    assert.equal(date("2024-01-01T10:00:00+0200"), "2024-01-01T08:00:00Z");
    assert.equal(date("2024-01-01 10:00"), "2024-01-01T10:00:00Z");
    assert.equal(date("2024-01-01T00:00:00.5Z"), "2024-01-01T00:00:00.500Z");
    for (const bad of ["yesterday", "01/02/2024", "2023-02-30", "2024-01-01T25:00:00Z"]) {
      assertIssue(fail({ default_start_date: bad }), "default_start_date", JSON.stringify(bad));
    }
  });

  test("accepts tables as a list or a comma-separated string", () => {
    assert.deepEqual(parse({ tables: ["products", "contacts"] }).config.tables, [
      "contacts",
      "products",
    ]);
    assert.deepEqual(parse({ tables: "Companies, activity_types" }).config.tables, [
      "companies",
      "activity_types",
    ]);
  });

  test("rejects an unknown table, listing the valid ones and the closest match", () => {
    const error = fail({ tables: "contacts,oportunities" });
    assertIssue(error, "tables", '"oportunities"', TABLE_NAMES.join(", "), '"opportunities"');
    assertIssue(fail({ tables: [] }), "tables", "empty");
  });

  test("rejects an invalid cron expression and accepts 5 or 6 fields", () => {
    assertIssue(fail({ schedule: "61 * * * *" }), "schedule", '"61 * * * *"', "minute");
    assertIssue(fail({ schedule: "every hour" }), "schedule", '"every hour"', "5 fields");
    assertIssue(fail({ reconcile_schedule: "* * * *" }), "reconcile_schedule", '"* * * *"');
    assert.equal(parse({ schedule: "0 */5 * * * *" }).config.schedule, "0 */5 * * * *");
  });

  test("warns about an unknown key and suggests the closest known key", () => {
    const { config, warnings } = parse({ batchsize: "5", hostName: "other", zzz_nothing: 1 });
    assert.equal(config.batch_size, 10000);
    assert.ok(warnings.some((w) => w.includes('"batchsize"') && w.includes('"batch_size"')));
    assert.ok(warnings.some((w) => w.includes('"hostName"') && w.includes('"hostname"')));
    const far = warnings.find((w) => w.includes('"zzz_nothing"'));
    assert.ok(far && !far.includes("did you mean"), String(far));
    assert.deepEqual(parse({ $schema: "x", _comment: "y" }).warnings, []);
  });

  test("reads the endpoints object and rejects unknown tables in it", () => {
    assert.deepEqual(
      parse({ endpoints: { activity_types: "api/task-types" } }).config.endpoints,
      { activity_types: "/api/task-types" },
    );
    assertIssue(fail({ endpoints: { contact: "/x" } }), "endpoints", '"contact"', '"contacts"');
    assertIssue(fail({ endpoints: "[1]" }), "endpoints", '"[1]"');
  });

  test("validates the other keys, naming the key and the bad value", () => {
    const error = fail({
      log_level: "LOUD",
      log_format: "xml",
      tls_verify: "maybe",
      max_delete_fraction: "2",
      request_timeout_seconds: "0",
      max_retries: "-1",
      lookback_seconds: "1.5",
      log_max_bytes: "0",
      destination: "mysql://u:pw@h/db",
    });
    assertIssue(error, "log_level", '"LOUD"', '"INFO"');
    assertIssue(error, "log_format", '"xml"');
    assertIssue(error, "tls_verify", '"maybe"');
    assertIssue(error, "max_delete_fraction", '"2"');
    assertIssue(error, "request_timeout_seconds", '"0"');
    assertIssue(error, "max_retries", '"-1"');
    assertIssue(error, "lookback_seconds", '"1.5"');
    assertIssue(error, "log_max_bytes", '"0"');
    assertIssue(error, "destination", "mysql://u:***@h/db");
    assert.equal(error.issues.length, 9);
    assert.equal(parse({ log_level: "fine" }).config.log_level, "FINE");
    assert.equal(parse({ log_format: "JSON" }).config.log_format, "json");
  });

  test("never shows the password or token, even when pasted into another key", () => {
    const error = fail({ hostname: `act.example.com ${PASSWORD}`, http_token: TOKEN, port: TOKEN });
    assertIssue(error, "hostname", "***");
    assertIssue(error, "port", "***");
    assert.ok(!error.message.includes(PASSWORD));
    const badType = fail({ password: { nested: PASSWORD } });
    assertIssue(badType, "password", "must be a string");
  });

  test("env ACT_<KEY> wins over the file and overrides win over env", () => {
    const env = {
      ACT_BATCH_SIZE: "250",
      ACT_PASSWORD: "from-env-pw",
      ACT_TABLES: "contacts,companies",
      ACT_TLS_VERIFY: "false",
      ACT_ENDPOINTS: '{"activity_types": "/api/task-types"}',
      ACT_HTTP_PORT: "9100",
      ACT_LOG_LEVEL: "", // empty: ignored
    };
    const { config } = parse({ batch_size: "100", log_level: "WARNING" }, {
      env,
      overrides: { http_port: "9200", tables: "products", log_format: undefined },
    });
    assert.equal(config.batch_size, 250);
    assert.equal(config.password, "from-env-pw");
    assert.equal(config.tls_verify, false);
    assert.deepEqual(config.endpoints, { activity_types: "/api/task-types" });
    assert.equal(config.http_port, 9200);
    assert.deepEqual(config.tables, ["products"]);
    assert.equal(config.log_level, "WARNING");
    assert.equal(config.log_format, "text");
    assert.equal(envName("batch_size"), "ACT_BATCH_SIZE");
  });

  test("says which environment variable or flag holds a bad value", () => {
    const error = fail({}, { env: { ACT_BATCH_SIZE: "lots" }, overrides: { http_port: "0" } });
    assertIssue(error, "batch_size", '"lots"', "ACT_BATCH_SIZE");
    assertIssue(error, "http_port", '"0"', "command line");
  });

  test("resolves relative paths against baseDir and keeps absolute and Windows paths", () => {
    const c = parse({
      destination: "sqlite:data/act.db",
      state_file: "Z:\\act-sync\\state.json",
      log_file: "logs/act-sync.log",
    }).config;
    assert.equal(c.destination, `sqlite:${join(BASE, "data", "act.db")}`);
    assert.equal(c.state_file, "Z:\\act-sync\\state.json");
    assert.equal(c.log_file, join(BASE, "logs", "act-sync.log"));
    assert.equal(
      parse({ destination: "C:\\data\\act.db" }).config.destination,
      "sqlite:C:\\data\\act.db",
    );
    assert.equal(
      parse({ destination: "sqlite:D:/x/act.db" }).config.destination,
      "sqlite:D:/x/act.db",
    );
    assert.equal(parse({ destination: "/var/act.db" }).config.destination, "sqlite:/var/act.db");
    assert.equal(
      parse({ destination: "sqlite:///var/a.db" }).config.destination,
      "sqlite:/var/a.db",
    );
    assert.equal(parse({ state_file: "C:/s.json" }).config.state_file, "C:/s.json");
    const pg = "postgres://sync:pw@db.example:5432/act";
    assert.equal(parse({ destination: pg }).config.destination, pg);
    assert.equal(
      parse({ destination: "postgresql://db/act" }).config.destination,
      "postgresql://db/act",
    );
  });

  test("rejects a top level that is not an object", () => {
    for (const raw of [[1, 2], "text", 42, null]) {
      assert.throws(() => parseConfig(raw, { baseDir: BASE }), /must contain a JSON object/);
    }
  });

  test("has the inferred Config type", () => {
    const { config } = parse();
    // Compile-time checks: these assignments fail `deno check` if the inferred types drift.
    const port: number | null = config.port;
    const protocol: "http" | "https" = config.protocol;
    const level: "INFO" | "FINE" | "WARNING" | "SEVERE" = config.log_level;
    const token: string | undefined = config.http_token;
    const first: (typeof TABLE_NAMES)[number] | undefined = config.tables[0];
    assert.deepEqual([port, protocol, level, token, first], [
      null,
      "https",
      "INFO",
      undefined,
      "contacts",
    ]);
  });

  test("ConfigSchema alone reports a missing key by name", () => {
    const result = v.safeParse(ConfigSchema, {});
    assert.equal(result.success, false);
    assert.ok(result.issues?.some((i) => i.message === "'hostname' is missing"));
  });
});

describe("secrets in config errors", () => {
  const TOK = "Tok3n-Sekr1t-xyz";
  const PG = "PgSekrit99";
  const URL_ = `postgres://u:${PG}@127.0.0.1:1/db`;

  /** The schema's own messages (before parseConfig's redaction) for `extra`. */
  function schemaMessages(extra: Record<string, unknown>): string[] {
    const merged: Record<string, unknown> = { ...SEED, ...extra };
    const input = Object.fromEntries(CONFIG_KEYS.map((key) => [key, merged[key]]));
    const result = v.safeParse(ConfigSchema, input, {
      abortEarly: false,
      abortPipeEarly: true,
    });
    assert.equal(result.success, false, `expected a problem for ${JSON.stringify(extra)}`);
    return result.issues!.map((issue) => issue.message);
  }

  function assertNoSecret(texts: string[], ...secrets: string[]): void {
    for (const text of texts) {
      for (const secret of secrets) {
        assert.ok(!text.includes(secret), `a secret leaked: ${text}`);
      }
    }
  }

  test("'http_token' of the wrong type is named without its value", () => {
    for (const token of [[TOK], { token: TOK }, true]) {
      const messages = schemaMessages({ http_token: token });
      assert.deepEqual(messages, ["'http_token' must be a string"]);
    }
    assert.equal(parse({ http_token: 12345678 }).config.http_token, "12345678");
    assert.equal(parse({ http_token: ` ${TOKEN} ` }).config.http_token, TOKEN);
  });

  test("'destination' of the wrong type shows only its type, never the URL inside", () => {
    const cases: [unknown, string][] = [
      [[URL_], "found an array"],
      [{ url: URL_ }, "found a JSON object"],
      [true, "found a JSON boolean"],
    ];
    for (const [destination, fragment] of cases) {
      const messages = schemaMessages({ destination });
      assertNoSecret(messages, PG, "127.0.0.1");
      assert.equal(messages.length, 1);
      assert.match(messages[0], /^'destination' must be a string/);
      assert.ok(messages[0].includes(fragment), messages[0]);
    }
  });

  test("a URL's password never shows in a message, whichever key holds it", () => {
    const bad = [
      { destination: `postgres://u:${PG}@[bad` },
      { destination: `postgres://u:a/${PG}@127.0.0.1/db bad` },
      { destination: `mysql://u:${PG}@h/db` },
      { destination: `mysql://h/db?password=${PG}` },
      { hostname: `https://u:${PG}@act.example.com` },
      { endpoints: { contacts: `https://u:${PG}@h/x?y` } },
      { api_path: `https://u:${PG}@h/x` },
    ];
    for (const extra of bad) {
      assertNoSecret([...schemaMessages(extra), fail(extra).message], PG);
    }
    const fromEnv = fail({}, { env: { ACT_DESTINATION: `mysql://u:${PG}@h/db` } });
    assertIssue(fromEnv, "destination", "mysql://u:***@h/db", "(from ACT_DESTINATION)");
    const fromFlag = fail({}, { overrides: { destination: `postgres://u:${PG}@[x` } });
    assertIssue(fromFlag, "destination", "(from the command line)");
    assertNoSecret([fromFlag.message], PG);
  });

  test("parseConfig gives the raw secrets of any type to the process's Secrets before failing", () => {
    const secrets = new Secrets();
    assert.throws(
      () =>
        parseConfig({ ...SEED, http_token: [TOK], destination: [URL_] }, {
          baseDir: BASE,
          secrets,
        }),
      ConfigError,
    );
    assert.equal(secrets.redact(`a ${TOK} b ${PG} c ${PASSWORD}`), "a *** b *** c ***");
  });
});

describe("redactConfig()", () => {
  test("hides the password, the token and the password in a postgres URL", () => {
    const { config } = parse({
      http_token: TOKEN,
      destination: `postgres://sync:${encodeURIComponent(PASSWORD)}@db.example:5432/act`,
    });
    const out = redactConfig(config);
    const text = JSON.stringify(out);
    assert.equal(out.password, "***");
    assert.equal(out.http_token, "***");
    assert.equal(out.destination, "postgres://sync:***@db.example:5432/act");
    assert.ok(!text.includes(PASSWORD) && !text.includes(encodeURIComponent(PASSWORD)));
    assert.ok(!text.includes(TOKEN));
    assert.equal(out.hostname, "act.example.com");
    assert.equal(config.password, PASSWORD, "the original is untouched");
  });
});

describe("loadConfig()", () => {
  let dir = "";
  before(() => {
    dir = tempDir("act-sync-config-");
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, text: string | Uint8Array): string {
    const file = join(dir, name);
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, text);
    return file;
  }

  test("reads a Notepad file with a UTF-8 BOM and CRLF line ends", async () => {
    const json = JSON.stringify({ ...SEED, destination: "sqlite:data\\act.db" }, null, 2)
      .replaceAll("\n", "\r\n");
    write("bom/configuration.json", `\uFEFF${json}\r\n`);
    const { config, path } = await loadConfig({ env: {}, cwd: join(dir, "bom") });
    assert.equal(path, join(dir, "bom", "configuration.json"));
    assert.equal(config.hostname, "act.example.com");
    assert.equal(config.state_file, join(dir, "bom", "state.json"));
  });

  test("reads a UTF-16 file with a BOM", async () => {
    const text = `\uFEFF${JSON.stringify(SEED)}`;
    const bytes = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) {
      bytes[2 * i] = text.charCodeAt(i) & 0xff;
      bytes[2 * i + 1] = text.charCodeAt(i) >> 8;
    }
    const file = write("utf16.json", bytes);
    const { config } = await loadConfig({ path: file, env: {}, cwd: "/" });
    assert.equal(config.database_name, "ActDB");
  });

  test("reports invalid JSON with the file, line and column", async () => {
    const file = write("bad.json", '{\r\n  "hostname": "h",\r\n  "port": "",\r\n}\r\n');
    await assert.rejects(
      loadConfig({ path: file, env: {}, cwd: dir }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(error.message.includes(file), error.message);
        assert.ok(error.message.includes("line 4, column 1"), error.message);
        assert.ok(error.message.includes("trailing comma"), error.message);
        return true;
      },
    );
  });

  test("explains an unescaped Windows backslash and never shows the line's content", async () => {
    const file = write(
      "backslash.json",
      `{"password": "${PASSWORD}",\n "destination": "C:\\data\\act.db"}`,
    );
    await assert.rejects(loadConfig({ path: file, env: {}, cwd: dir }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes("line 2, column 20"), error.message);
      assert.ok(error.message.includes("\\\\"), error.message);
      assert.ok(!error.message.includes(PASSWORD));
      return true;
    });
  });

  test("rejects a file whose top level is not an object", async () => {
    const file = write("array.json", "[1, 2]");
    await assert.rejects(loadConfig({ path: file, env: {}, cwd: dir }), /JSON object/);
  });

  test("names the missing file and how to create one", async () => {
    const cwd = join(dir, "empty");
    mkdirSync(cwd, { recursive: true });
    await assert.rejects(loadConfig({ env: {}, cwd }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(join(cwd, "configuration.json")), error.message);
      assert.ok(error.message.includes("--config"), error.message);
      return true;
    });
  });

  test("uses ACT_SYNC_CONFIG, relative to cwd, and resolves paths against the file's folder", async () => {
    write("conf/sub/my.json", JSON.stringify({ ...SEED, state_file: "st.json" }));
    const { config, path } = await loadConfig({
      env: { ACT_SYNC_CONFIG: "conf/sub/my.json" },
      cwd: dir,
    });
    assert.equal(path, join(dir, "conf", "sub", "my.json"));
    assert.equal(config.state_file, join(dir, "conf", "sub", "st.json"));
  });

  test("runs from the environment alone when there is no file but the required keys are set", async () => {
    const cwd = join(dir, "envonly");
    mkdirSync(cwd, { recursive: true });
    const env = {
      ACT_HOSTNAME: "act.example.com",
      ACT_USERNAME: "John",
      ACT_PASSWORD: PASSWORD,
      ACT_DATABASE_NAME: "ActDB",
    };
    const { config, warnings } = await loadConfig({ env, cwd });
    assert.equal(config.hostname, "act.example.com");
    assert.equal(config.state_file, join(cwd, "state.json"));
    assert.match(warnings[0], /environment variables only/);
    // An explicitly named file must exist, even then.
    await assert.rejects(loadConfig({ path: "nope.json", env, cwd }), /not found/);
  });

  test("checks that ca_file exists and looks like PEM, along with the other problems", async () => {
    write("ca/good.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    write("ca/bad.pem", "not a certificate");
    const good = write("ca/good.json", JSON.stringify({ ...SEED, ca_file: "good.pem" }));
    assert.equal(
      (await loadConfig({ path: good, env: {}, cwd: "/" })).config.ca_file,
      join(dir, "ca", "good.pem"),
    );
    const bad = write("ca/bad.json", JSON.stringify({ ...SEED, ca_file: "bad.pem", port: "0" }));
    await assert.rejects(loadConfig({ path: bad, env: {}, cwd: "/" }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assertIssue(error, "ca_file", "PEM", "bad.pem");
      assertIssue(error, "port", '"0"');
      return true;
    });
    const missing = write("ca/missing.json", JSON.stringify({ ...SEED, ca_file: "none.pem" }));
    await assert.rejects(
      loadConfig({ path: missing, env: {}, cwd: "/" }),
      /'ca_file' cannot be read/,
    );
  });
});
