import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import { createLogger } from "../src/core/log.ts";
import { escapeControl, redactUrlCredentials, Secrets, urlPasswords } from "../src/core/secrets.ts";
import { parseSimulateArgs } from "../src/cli/simulate.ts";
import { simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { tempDir } from "./_helpers.ts";

/** A password holding `"`, `\`, `:`, `<`, `&`, `'`, a space and non-ASCII letters. */
const PASSWORD = `Pw"Secr\\et1: <a&b> 'é ü`;
const USER = "demo";

function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Every written form of the password that must never appear. */
function passwordForms(): string[] {
  const json = JSON.stringify(PASSWORD).slice(1, -1);
  const html = PASSWORD.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
  return [
    PASSWORD,
    encodeURIComponent(PASSWORD),
    base64(`${USER}:${PASSWORD}`),
    base64(PASSWORD),
    json,
    JSON.stringify(json).slice(1, -1), // escaped twice (a body quoted in a JSON document)
    html,
    // Every readable form keeps this piece: it must not survive anywhere either.
    "Secr",
  ];
}

function assertClean(where: string, text: string): void {
  for (const form of passwordForms()) {
    assert.ok(!text.includes(form), `${where} shows the password as ${JSON.stringify(form)}`);
  }
  assert.doesNotMatch(text, /eyJ[\w-]*\.[\w-]+/, `${where} shows a JWT`);
  assert.ok(!text.includes("\x1b"), `${where} holds a raw ESC`);
}

describe("Secrets", () => {
  test("redact() removes the raw, URL-encoded, base64, JSON- and HTML-escaped forms", () => {
    const secrets = new Secrets();
    secrets.addCredentials(USER, PASSWORD);
    const twice = JSON.stringify(JSON.stringify(PASSWORD).slice(1, -1)).slice(1, -1);
    for (const form of passwordForms().filter((f) => f !== twice && f !== "Secr")) {
      assert.equal(secrets.redact(`<${form}>`), "<***>", `form ${JSON.stringify(form)}`);
    }
    assert.equal(
      secrets.redact(`Authorization: Basic ${base64(`${USER}:${PASSWORD}`)}`),
      "Authorization: Basic ***",
    );
  });

  test("json() catches a secret in strings and after JSON escaping", () => {
    const secrets = new Secrets([PASSWORD]);
    const json = JSON.stringify(PASSWORD).slice(1, -1);
    const text = secrets.json({ a: `raw ${PASSWORD}`, b: `server wrote ${json}` });
    assert.equal(text, JSON.stringify({ a: "raw ***", b: "server wrote ***" }));
  });

  test("the current and the previous tokens are redacted", () => {
    const secrets = new Secrets();
    secrets.addToken("eyJhbGciOi.first.token");
    secrets.addToken("eyJhbGciOi.second.token");
    assert.equal(
      secrets.redact("old eyJhbGciOi.first.token new eyJhbGciOi.second.token"),
      "old *** new ***",
    );
  });

  test("escapeControl() escapes ESC, C1, line breaks and bidi overrides", () => {
    assert.equal(
      escapeControl("a\x1b[31mb\nc\r\td\x9be\u202ef"),
      "a\\u001b[31mb\\nc\\r\\td\\u009be\\u202ef",
    );
  });
});

describe("createLogger()", () => {
  test("text and JSON lines hide every form of the password", () => {
    for (const format of ["text", "json"] as const) {
      const lines: string[] = [];
      const logger = createLogger({ format, write: (line) => lines.push(line) });
      logger.addSecret(PASSWORD);
      logger.addSecret(`${USER}:${PASSWORD}`);
      logger.info(`refused: ${PASSWORD}`, { body: `password=${PASSWORD}`, [PASSWORD]: 1 });
      logger.info("echo", { sent: `Basic ${base64(`${USER}:${PASSWORD}`)}` });
      assert.equal(lines.length, 2);
      for (const line of lines) assertClean(`${format} log`, line);
      assert.match(lines.join("\n"), /\*\*\*/);
    }
  });

  test("control characters from the server are escaped in text and JSON lines", () => {
    for (const format of ["text", "json"] as const) {
      const lines: string[] = [];
      const logger = createLogger({ format, write: (line) => lines.push(line) });
      logger.severe("GET failed: \x1b[2J\x1b[31mforged\nSEVERE fake line\x9b0m", {
        "field\x1b[1m": "value\r\x1b[0m",
      });
      assert.equal(lines.length, 1);
      // deno-lint-ignore no-control-regex
      assert.doesNotMatch(lines[0], /[\x00-\x1f\x7f-\x9f]/, `${format}: ${lines[0]}`);
      assert.match(lines[0], /\\u001b\[31mforged\\nSEVERE fake line/);
      if (format === "json") {
        assert.equal(
          JSON.parse(lines[0]).message,
          "GET failed: \x1b[2J\x1b[31mforged\nSEVERE fake line\x9b0m",
        );
      }
    }
  });
});

describe("a server that echoes credentials in its error bodies", () => {
  test("`act-sync simulate --echo-credentials` turns the switch on", () => {
    assert.equal(parseSimulateArgs(["--echo-credentials"]).switches?.echoCredentials, true);
    assert.equal(parseSimulateArgs([]).switches?.echoCredentials, undefined);
  });

  async function runOnce(
    options: { simPassword: string; format: "text" | "json"; fault?: boolean },
  ) {
    const { url, sim, close } = await startSimulator({
      records: 20,
      password: options.simPassword,
      switches: { echoCredentials: true },
    });
    try {
      if (options.fault) {
        // The data request is answered 500, echoing the Bearer token; then a 400 whose body
        // holds ESC sequences.
        sim.inject({ kind: "status", status: 500, path: "/api/contacts" });
        sim.inject({
          kind: "status",
          status: 400,
          path: "/api/companies",
          body: "\x1b[2J\x1b[31mred alert\x1b[0m",
        });
      }
      const dir = tempDir();
      const config = join(dir, "configuration.json");
      writeFileSync(
        config,
        JSON.stringify(simulatorConfig(url, {
          password: PASSWORD,
          destination: `sqlite:${join(dir, "act.db")}`,
          state_file: join(dir, "state.json"),
          log_file: join(dir, "act-sync.log"),
          log_level: "FINE",
          log_format: options.format,
          tables: "contacts,companies",
          max_retries: 0,
        })),
      );
      let stdout = "";
      let stderr = "";
      const code = await runCli({
        args: ["--once", "--config", config],
        env: {},
        cwd: dir,
        stdout: (text) => stdout += text,
        stderr: (text) => stderr += text,
        isTty: false,
      });
      const state = existsSync(join(dir, "state.json"))
        ? readFileSync(join(dir, "state.json"), "utf8")
        : "";
      const log = readFileSync(join(dir, "act-sync.log"), "utf8");
      return { code, stdout, stderr, state, log };
    } finally {
      await close();
    }
  }

  test("a 401 echoing the Basic header and the password shows neither (text log)", async () => {
    const out = await runOnce({ simPassword: "another", format: "text" });
    for (const [where, text] of Object.entries(out)) {
      if (typeof text === "string") assertClean(where, text);
    }
    assert.equal(out.code, 4);
    assert.match(out.stdout, /Failed to authenticate/);
    assert.match(out.stdout + out.stderr, /Denied\. You sent Basic \*\*\*/, "the echo was there");
  });

  test("a 500 echoing the token keeps it out of stdout, the log and state.json (JSON log)", async () => {
    const out = await runOnce({ simPassword: PASSWORD, format: "json", fault: true });
    for (const [where, text] of Object.entries(out)) {
      if (typeof text === "string") assertClean(where, text);
    }
    assert.equal(out.code, 1);
    const state = JSON.parse(out.state);
    assert.match(state.tables.contacts.last_error.message, /Authorization: Bearer \*\*\*/);
    assert.match(state.tables.companies.last_error.message, /red alert/);
    assert.match(out.stdout, /\\u001b\[31mred alert/, "the ESC is shown escaped");
    for (const line of out.log.trim().split("\n")) JSON.parse(line);
  });
});

test("a malformed secret in the config exits 2 without showing it; the CLI's Secrets knows it", async () => {
  const dir = tempDir();
  const token = "Tok3n-Sekr1t-xyz";
  const pgPassword = "PgSekrit99";
  const config = join(dir, "configuration.json");
  writeFileSync(
    config,
    JSON.stringify({
      hostname: "act.example.com",
      username: USER,
      password: PASSWORD,
      database_name: "ActDB",
      http_token: [token],
      destination: [`postgres://u:${pgPassword}@127.0.0.1:1/db`],
    }),
  );
  const secrets = new Secrets();
  let out = "";
  const code = await runCli({
    args: ["--once", "--config", config],
    env: {},
    cwd: dir,
    stdout: (text) => out += text,
    stderr: (text) => out += text,
    isTty: false,
    secrets,
  });
  assert.equal(code, 2);
  assert.match(out, /'http_token' must be a string/);
  assert.match(out, /'destination' must be a string .*found an array/);
  for (const secret of [token, pgPassword, PASSWORD]) {
    assert.ok(!out.includes(secret), `a secret leaked: ${out}`);
    assert.equal(secrets.redact(`<${secret}>`), "<***>", "the CLI's Secrets knows every secret");
  }
  // The env var and the flag paths: a token from ACT_HTTP_TOKEN is registered, a bad
  // --destination is shown without its password.
  out = "";
  const flagged = await runCli({
    args: ["--once", "--config", config, "--destination", `mysql://u:${pgPassword}@h/db`],
    env: { ACT_HTTP_TOKEN: "Env-T0ken-abc" },
    cwd: dir,
    stdout: (text) => out += text,
    stderr: (text) => out += text,
    isTty: false,
    secrets,
  });
  assert.equal(flagged, 2);
  assert.match(out, /mysql:\/\/u:\*\*\*@h\/db/);
  assert.ok(!out.includes(pgPassword), out);
  assert.equal(secrets.redact("Env-T0ken-abc"), "***");
});

describe("redactUrlCredentials()", () => {
  const redactUrl = redactUrlCredentials;
  test("keeps the user of user:password@ and hides the password", () => {
    const out = redactUrl("postgres://sync:s3cret!@db.example:5432/act");
    assert.equal(out, "postgres://sync:***@db.example:5432/act");
    assert.ok(!out.includes("s3cret"));
  });

  test("hides a password holding @, / and : whole, in any text, and finds it for registration", () => {
    const text =
      'bad: "postgres://sync:p@ss/w:rd@db:5432/act" and mysql://u:x@h/db?sslpassword=y&a=1';
    assert.equal(
      redactUrl(text),
      'bad: "postgres://sync:***@db:5432/act" and mysql://u:***@h/db?sslpassword=***&a=1',
    );
    assert.ok(urlPasswords("postgres://sync:p@ss/w:rd@db:5432/act").includes("p@ss/w:rd"));
    assert.deepEqual(urlPasswords("postgres://sync:s3cret@db/act"), ["s3cret"]);
    assert.deepEqual(urlPasswords("postgres://sync@db/act"), []);
  });

  test("hides token-like query parameters and keeps the others as encoded", () => {
    const out = redactUrl(
      "https://h/api/contacts?$filter=edited%20ge%202024-01-01T00:00:00Z&access_token=abc123&$top=5&password=pw1#frag",
    );
    assert.equal(
      out,
      "https://h/api/contacts?$filter=edited%20ge%202024-01-01T00:00:00Z&access_token=***&$top=5&password=***#frag",
    );
  });

  test("leaves a URL without secrets unchanged", () => {
    const url = "https://api.act.com/act.web.api/api/contacts?$top=1";
    assert.equal(redactUrl(url), url);
  });
});
