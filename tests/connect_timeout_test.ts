// Connecting has its own timeout: a closed port and an address that never answers fail in
// seconds, whatever the request timeout; while a request waits, /health says for how long.
// Every address here is on 127.0.0.1.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ActClient } from "../src/act/client.ts";
import { withConnectTimeout } from "../src/act/connection.ts";
import { HttpError } from "../src/core/errors.ts";
import { RUNTIME } from "../src/core/runtime.ts";
import { createClient } from "../src/jobs/sync.ts";
import { Monitor } from "../src/service/monitor.ts";
import { createApp } from "../src/service/app.ts";
import { silentLogger } from "../src/core/log.ts";
import { configForSimulator, freePort } from "./_helpers.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * A listening socket that never completes a connection: a Deno child listens with a backlog of
 * 1 and blocks its only thread, so it accepts nothing; two connections fill the kernel's queue,
 * and every later connect waits unanswered.
 */
async function silentPort(): Promise<{ port: number; close: () => void }> {
  const deno = RUNTIME === "deno" ? process.execPath : join(root, "node_modules/.bin/deno");
  const script = `
    import net from "node:net";
    const server = net.createServer();
    server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
      console.log(server.address().port);
      setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000), 100);
    });`;
  const child: ChildProcess = spawn(deno, ["eval", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(Number(out.trim()));
    });
    child.once("exit", (code) => reject(new Error(`the listener exited with ${code}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, 300)); // its thread is blocked by now
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const socket = net.connect({ host: "127.0.0.1", port });
    fillers.push(socket);
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
  }
  return {
    port,
    close: () => {
      for (const socket of fillers) socket.destroy();
      child.kill("SIGKILL");
    },
  };
}

function clientFor(port: number, options: { connectTimeoutMs?: number; timeoutMs: number }) {
  return new ActClient({
    baseUrl: `http://127.0.0.1:${port}/act.web.api`,
    username: "demo",
    password: "demo",
    database: "ActDemo",
    pauseMs: 0,
    maxRetries: 0,
    sleep: () => Promise.resolve(),
    ...options,
  });
}

describe("the connect timeout", () => {
  let silent: { port: number; close: () => void };
  before(async () => {
    silent = await silentPort();
  });
  after(() => silent.close());

  test("an address that never answers fails after the connect timeout, not the request's", async () => {
    const client = clientFor(silent.port, { connectTimeoutMs: 1_000, timeoutMs: 60_000 });
    const error = await client.list("/api/contacts").then(() => null, (e) => e);
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.status, 0);
    assert.match(error.message, /no connection within 1000 ms to 127\.0\.0\.1:\d+/);
    assert.match(error.message, /'connect_timeout_seconds'/);
  });

  test("the client made from the config uses connect_timeout_seconds", async () => {
    const config = configForSimulator(`http://127.0.0.1:${silent.port}/act.web.api`, {
      connect_timeout_seconds: 1,
      request_timeout_seconds: 60,
      max_retries: 0,
    });
    const client = createClient(config, { logger: silentLogger() });
    await assert.rejects(client.authenticate(), /no connection within 1000 ms/);
  });

  test("a closed port fails with the refusal and what to check", async () => {
    const port = await freePort();
    const client = clientFor(port, { connectTimeoutMs: 1_000, timeoutMs: 60_000 });
    await assert.rejects(
      client.list("/api/contacts"),
      /ECONNREFUSED|refused.*check 'hostname' and 'port': nothing accepts connections/i,
    );
  });

  test("0 turns the check off; a quick answer opens no second connection", async () => {
    const inner: typeof fetch = () => Promise.resolve(new Response("ok"));
    assert.equal(withConnectTimeout(inner, 0), inner);
    let probed = false;
    const wrapped = withConnectTimeout(inner, 1_000, () => {
      probed = true;
      return Promise.reject(new Error("refused"));
    });
    const response = await wrapped("http://127.0.0.1:1/");
    assert.equal(await response.text(), "ok");
    assert.equal(probed, false);
  });

  test("a request still waiting is aborted with the connect check's error", async () => {
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal!.reason));
      });
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const wrapped = withConnectTimeout(hanging, 200, () => Promise.reject(refused));
    await assert.rejects(wrapped("http://127.0.0.1:1/"), (error) => error === refused);
  });
});

describe("/health while a request waits", () => {
  test("shows how long the request in flight has waited, and when Act! last answered", async () => {
    const silent = await silentPort();
    let now = Date.UTC(2026, 0, 1);
    const monitor = new Monitor({
      tables: ["contacts"],
      schedule: "*/15 * * * *",
      intervalMs: 900_000,
      now: () => now,
    });
    const app = createApp({ monitor, logger: silentLogger(), startRun: () => null });
    const health = async () => await (await app.request("/health")).json();
    try {
      assert.equal((await health()).act_waiting_seconds, null);
      assert.equal((await health()).act_last_answer_seconds, null);
      const client = new ActClient({
        baseUrl: `http://127.0.0.1:${silent.port}/act.web.api`,
        username: "demo",
        password: "demo",
        database: "ActDemo",
        maxRetries: 0,
        connectTimeoutMs: 0,
        timeoutMs: 60_000,
        onRequest: () => monitor.requestStarted(),
        onResponse: (info) => monitor.response(info),
      });
      const controller = new AbortController();
      const call = client.authenticate({ signal: controller.signal }).catch((e) => e);
      for (let i = 0; i < 100 && (await health()).act_waiting_seconds === null; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      now += 95_000;
      assert.equal((await health()).act_waiting_seconds, 95);
      controller.abort(new Error("test over"));
      await call;
      assert.equal((await health()).act_waiting_seconds, null);
      monitor.response({ method: "GET", url: "x", status: 200, ms: 5, rateLimitRemaining: null });
      now += 7_000;
      assert.equal((await health()).act_last_answer_seconds, 7);
    } finally {
      silent.close();
    }
  });
});
