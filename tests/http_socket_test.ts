import { after, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createLogger } from "../src/core/log.ts";
import { listen } from "../src/core/listen.ts";
import { createApp } from "../src/service/app.ts";
import { Monitor } from "../src/service/monitor.ts";
import { cliCommand, freePort, tempDir } from "./_helpers.ts";

const TOKEN = "tok-9f3c2a71e5";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BINARY = join(ROOT, "dist", "act-sync");
const dir = tempDir("act-sync-http-socket-");
after(() => rmSync(dir, { recursive: true, force: true }));

/** Requests that no browser or HTTP client sends, as raw bytes (fetch cannot send them). */
const MALFORMED: [string, string][] = [
  ["Host: a, b", "GET /health HTTP/1.1\r\nHost: a, b\r\nConnection: close\r\n\r\n"],
  ["two Host lines", "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"],
  [
    "Host with user info",
    "GET /health HTTP/1.1\r\nHost: localhost:80@evil.com\r\nConnection: close\r\n\r\n",
  ],
  [
    "a port of 20 digits",
    "GET /health HTTP/1.1\r\nHost: localhost:12345678901234567890\r\nConnection: close\r\n\r\n",
  ],
  [
    "a port above 65535",
    "GET /health HTTP/1.1\r\nHost: localhost:65536\r\nConnection: close\r\n\r\n",
  ],
  ["an empty Host", "GET /state HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n"],
  ["HTTP/1.0 without Host", "GET /health HTTP/1.0\r\n\r\n"],
  ["HTTP/1.0 without Host, a guarded route", "GET /state HTTP/1.0\r\n\r\n"],
  ["HTTP/1.1 without Host", "POST /sync HTTP/1.1\r\nConnection: close\r\n\r\n"],
];

/** Send `text` on a new connection to 127.0.0.1:`port`; the status code and body of the answer. */
function rawRequest(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text));
    const chunks: Buffer[] = [];
    socket.setTimeout(
      20_000,
      () => socket.destroy(new Error(`no answer to ${JSON.stringify(text)}`)),
    );
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const answer = Buffer.concat(chunks).toString("latin1");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? NaN);
      const at = answer.indexOf("\r\n\r\n");
      resolve({ status, body: at < 0 ? "" : answer.slice(at + 4) });
    });
  });
}

/** Asserts a short answer that shows nothing of this machine: no page, path, source or stack. */
function assertBare(body: string, what: string): void {
  assert.ok(body.length < 300, `${what}: a short body, got ${body.length} bytes`);
  for (const leak of ["<", ROOT, process.cwd(), "node_modules", ".ts", "    at "]) {
    assert.ok(!body.includes(leak), `${what}: the body shows ${JSON.stringify(leak)}: ${body}`);
  }
}

/** Every malformed request gets 400 from the server listening on `port`. */
async function assertAllRefused(port: number): Promise<void> {
  for (const [what, text] of MALFORMED) {
    const { status, body } = await rawRequest(port, text);
    assert.equal(status, 400, `${what}: ${body.slice(0, 300)}`);
    assertBare(body, what);
    // The runtime answers some of these itself, with an empty body; ours is one JSON line.
    if (body.trim() !== "") assert.match(JSON.parse(body).error, /^Bad request: /, what);
  }
  const fine = await rawRequest(
    port,
    "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
  );
  assert.ok([200, 503].includes(fine.status), `a well-formed request is served: ${fine.body}`);
}

describe("the monitoring endpoint on a socket", () => {
  test("a malformed request is answered 400 with one short JSON line, with a token set too", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "FINE", write: (line) => lines.push(line) });
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "* * * * *",
      intervalMs: 60_000,
    });
    const app = createApp({
      monitor,
      startRun: () => null,
      token: TOKEN,
      logger,
      requireHost: true,
    });
    const errors: unknown[] = [];
    const listener = await listen(app.fetch, { port: 0, onError: (e) => errors.push(e) });
    try {
      await assertAllRefused(listener.port);
    } finally {
      await listener.close();
    }
    assert.deepEqual(errors, [], "no request reached the runtime's error handler");
    assert.deepEqual(lines.filter((line) => line.includes("SEVERE")), []);
    assert.ok(
      lines.some((line) => /FINE\s+HTTP GET \/health status=400/.test(line)),
      lines.join("\n"),
    );
  });

  test("listen() answers a handler that throws with a fixed 500 and hands the error to onError", async () => {
    const errors: unknown[] = [];
    const listener = await listen(() => {
      throw new Error(`failed in ${ROOT}src/service/app.ts`);
    }, { port: 0, onError: (error) => errors.push(error) });
    try {
      const { status, body } = await rawRequest(
        listener.port,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      );
      assert.equal(status, 500);
      assert.equal(body, "Internal Server Error\n");
    } finally {
      await listener.close();
    }
    assert.equal(errors.length, 1);
    assert.match((errors[0] as Error).message, /^failed in /);
  });
});

/** A service (no Act! server behind it) started with `command`; resolves once it listens. */
async function startService(command: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const config = join(dir, `service-${port}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      protocol: "http",
      hostname: "127.0.0.1",
      port: String(await freePort()),
      username: "demo",
      password: "demo-password-77",
      database_name: "ActDemo",
      max_retries: 0,
      destination: `sqlite:${join(dir, `act-${port}.db`)}`,
      state_file: join(dir, `state-${port}.json`),
      schedule: "0 0 1 1 *",
      http_port: port,
      http_token: TOKEN,
    }),
  );
  const [program, ...prefix] = command;
  const child = spawn(program, [...prefix, "--config", config], {
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not listening after 60 s: ${stderr}`)),
      60_000,
    );
    child.stderr!.on("data", (chunk) => {
      stderr += chunk;
      if (/Monitoring on http/.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with ${code}: ${stderr}`));
    });
  });
  return { port, child };
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await gone;
}

describe("the service's monitoring endpoint, as a user runs it", () => {
  test("act-sync from source answers malformed requests 400", async () => {
    const { port, child } = await startService(cliCommand());
    try {
      await assertAllRefused(port);
    } finally {
      await stopService(child);
    }
  });

  test("the compiled binary answers malformed requests 400, without the development page", {
    skip: existsSync(BINARY) ? false : "dist/act-sync not built (npm run build)",
  }, async () => {
    const { port, child } = await startService([BINARY]);
    try {
      await assertAllRefused(port);
    } finally {
      await stopService(child);
    }
  });
});
