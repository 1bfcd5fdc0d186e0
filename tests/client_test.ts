import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ActClient, type ActClientOptions, AUTH_FAILED_MESSAGE } from "../src/act/client.ts";
import { backoffDelay, parseRetryAfter, rateLimitWait, RETRY_POLICY } from "../src/act/retry.ts";
import { createFetch } from "../src/act/tls.ts";
import { parseListBody, parseListBytes, parseToken } from "../src/act/response_body.ts";
import { basicAuthorization, decodeBasic } from "../src/core/basic.ts";
import { HttpError } from "../src/core/errors.ts";
import { createLogger } from "../src/core/log.ts";
import { startSimulator } from "../src/simulator/mod.ts";

type Sim = Awaited<ReturnType<typeof startSimulator>>;

const TLS_DIR = fileURLToPath(new URL("./fixtures/tls/", import.meta.url));

/** A client on `sim` whose sleeps are recorded (not slept) and whose jitter is fixed. */
function clientFor(
  sim: Sim,
  options: Partial<ActClientOptions> = {},
): { client: ActClient; waits: number[] } {
  const waits: number[] = [];
  const client = new ActClient({
    baseUrl: sim.url,
    username: "demo",
    password: "demo",
    database: "ActDemo",
    pauseMs: 0,
    random: () => 1,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    ...options,
  });
  return { client, waits };
}

async function rejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

describe("retry policy (pure)", () => {
  test("backoffDelay() doubles from the base up to the cap, jitter takes off at most half", () => {
    const { baseMs, capMs } = RETRY_POLICY.backoff;
    assert.equal(backoffDelay(1, () => 1), baseMs);
    assert.equal(backoffDelay(2, () => 1), baseMs * 2);
    assert.equal(backoffDelay(3, () => 0), baseMs * 2);
    assert.equal(backoffDelay(50, () => 1), capMs);
  });

  test("parseRetryAfter() reads seconds and HTTP dates, caps, and ignores junk", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("7", now), 7000);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("999999", now), RETRY_POLICY.retryAfterCapMs);
    assert.equal(parseRetryAfter("soon", now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });

  test("rateLimitWait() reads X-RateLimit-Reset as seconds, epoch seconds or epoch ms", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(rateLimitWait("5", "10", now), null);
    assert.equal(rateLimitWait(null, "10", now), null);
    assert.equal(rateLimitWait("0", "10", now), 10_000);
    assert.equal(rateLimitWait("0", String(now / 1000 + 20), now), 20_000);
    assert.equal(rateLimitWait("0", String(now + 3000), now), 3000);
    assert.equal(rateLimitWait("0", "86400", now), RETRY_POLICY.rateLimitResetCapMs);
    assert.equal(rateLimitWait("0", null, now), RETRY_POLICY.rateLimitDefaultWaitMs);
  });
});

describe("bodies (pure)", () => {
  test("parseListBody() accepts both envelopes", () => {
    assert.deepEqual(parseListBody('{"value":[{"id":"a"}],"Count":1}', "application/json"), {
      rows: [{ id: "a" }],
      envelope: "value",
    });
    assert.deepEqual(parseListBody("[]", null), { rows: [], envelope: "array" });
  });

  test("parseListBody() rejects anything else, naming what came back", () => {
    const cases: [string, string, RegExp][] = [
      ["<html><body>Server Error</body></html>", "text/html", /text\/html.*Server Error/],
      ['[{"id":"a"},{"id":', "application/json", /truncated JSON.*\{"id":"a"\}/],
      ['{"Count":0}', "application/json", /object with keys \["Count"\]/],
      ['{"value":{"id":"a"}}', "application/json", /"value" is not an array/],
      ["[1,2]", "application/json", /row 0 is number/],
      ["", "application/json", /empty body/],
    ];
    for (const [body, type, pattern] of cases) {
      assert.throws(() => parseListBody(body, type), pattern, body);
    }
  });

  test("parseListBytes() gives what parseListBody() gives: the same rows, or the same error", () => {
    const bodies = [
      '{"value":[{"id":"a"}],"Count":1}',
      "[]",
      ' \n[ {"id":"é\\"}"} ,\r\n\t{"id":"b"} ] \n',
      '[{"id":"a","x":[1,{"y":"]},{"}],"z":{"value":[{"id":"q"}]}},{"id":"b\\\\"}]',
      '{"@odata.context":"x","value":[],"Count":0}',
      '{"value":[{"id":1}],"value":[{"id":2}]}',
      '{"value":5,"value":[{"id":2}]}',
      '{"value":[{"id":2}],"value":5}',
      '{"value":[{"id":2}],"value":{"a":1}}',
      '{"a":{"value":[{"id":1}]},"value":[{"id":3}]}',
      '{"x":"value","value":[{"id":9}],"n":[1,2]}',
      '{"k":["value"],"value":[{"id":1}]}',
      '{"Value":[{"id":1}]}',
      '{"value":[{"id":"A"}],"v\\u0061lue":[{"id":"B"}]}',
      '{"value":[{"id":"A"}],"v\\u0061lue":[]}',
      '{"value":[{"id":"A"}]\ufeff,"Count":1}',
      `[{"id":"a","n":0.${"0".repeat(400)}1},{"id":"b","big":12345678901234567890}]`,
      '{"value":{"a":[1]}}',
      '\ufeff[{"id":1}]',
      '[{"id":1,"n":1e400,"b":true,"f":false}]',
      '[{"id":1,"n":-12345678901234567890},{"id":2,"n":1.5E+308,"m":9007199254740993}]',
      '{"value":[{"id":"x"}],"Count":12345678901234567890}',
      '[{"id":1},]',
      '[,{"id":1}]',
      '[{"id":1}] x',
      '[{"id":1}{"id":2}]',
      '[{"id":1},"s"]',
      '[{"id":1},null]',
      '[{"id":1},[2]]',
      '{"value":[{"id":1}]',
      '[{"id":"a"},{"id":',
      '[{"id":"a","b":"unterminated}]',
      "[{'id':1}]",
      "<html><body>Server Error</body></html>",
      "",
      "   ",
    ];
    const encoder = new TextEncoder();
    const outcome = (parse: () => unknown) => {
      try {
        return { value: parse() };
      } catch (error) {
        return { error: `${(error as Error).name}: ${(error as Error).message}` };
      }
    };
    for (const body of bodies) {
      for (const type of ["application/json", "text/html"]) {
        assert.deepEqual(
          outcome(() => parseListBytes(encoder.encode(body), type)),
          outcome(() => parseListBody(body, type)),
          `${type}: ${body}`,
        );
      }
    }
  });

  test("parseToken() trims whitespace and quotes; basicAuthorization() encodes UTF-8", () => {
    assert.equal(parseToken(' \n"abc.def.ghi"\r\n'), "abc.def.ghi");
    assert.equal(parseToken("abc"), "abc");
    const header = basicAuthorization("Jöhn Høllo", "pw");
    const bytes = Uint8Array.from(atob(header.slice(6)), (c) => c.charCodeAt(0));
    assert.equal(new TextDecoder().decode(bytes), "Jöhn Høllo:pw");
  });

  test("decodeBasic() reads back what basicAuthorization() wrote, and refuses what is not UTF-8", () => {
    const value = basicAuthorization("Jöhn Høllo", "p:w").slice(6);
    assert.deepEqual(decodeBasic(value), { username: "Jöhn Høllo", password: "p:w" });
    assert.deepEqual(decodeBasic(btoa("nocolon")), { username: "nocolon", password: null });
    assert.equal(decodeBasic(btoa("\xff:x")), null, "not UTF-8");
    assert.equal(decodeBasic("%%%"), null, "not base64");
  });
});

describe("ActClient against the simulator", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSimulator({ records: 30, seed: 1 });
  });
  after(async () => {
    await sim.close();
  });

  test("list() accepts the value envelope and the bare array", async () => {
    sim.sim.switches.envelope.contacts = "value";
    sim.sim.switches.envelope.opportunities = "array";
    const { client } = clientFor(sim);
    const contacts = await client.list("/api/contacts", { top: 3 });
    assert.equal(contacts.envelope, "value");
    assert.equal(contacts.rows.length, 3);
    assert.equal(typeof contacts.rows[0].id, "string");
    const opportunities = await client.list("/api/opportunities", { top: 2 });
    assert.equal(opportunities.envelope, "array");
    assert.equal(opportunities.rows.length, 2);
    assert.ok(contacts.serverDate !== null && Math.abs(contacts.serverDate - Date.now()) < 60_000);
  });

  test("one token is reused; an expired token is renewed once and the new one kept", async () => {
    const { client } = clientFor(sim);
    const auths = sim.sim.stats.authorizations;
    await client.list("/api/contacts", { top: 1 });
    await client.list("/api/companies", { top: 1 });
    assert.equal(sim.sim.stats.authorizations, auths + 1);
    sim.sim.expireTokens();
    const before = client.requestCount;
    await client.list("/api/contacts", { top: 1 });
    assert.equal(sim.sim.stats.authorizations, auths + 2);
    assert.equal(client.requestCount, before + 3); // 401, /authorize, the repeat
    await client.list("/api/contacts", { top: 1 });
    await client.list("/api/products", { top: 1 });
    assert.equal(sim.sim.stats.authorizations, auths + 2);
  });

  test("a 401 right after renewing the token is fatal (no loop)", async () => {
    const { client, waits } = clientFor(sim);
    const auths = sim.sim.stats.authorizations;
    sim.sim.switches.tokenMaxRequests = 0; // every token is refused
    try {
      const error = await rejects(client.list("/api/contacts", { top: 1 }));
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 401);
      assert.match(error.message, /right after renewing the token/);
      assert.equal(sim.sim.stats.authorizations, auths + 2);
      assert.equal(client.requestCount, 4); // authorize, 401, authorize, 401
      assert.deepEqual(waits, []);
    } finally {
      sim.sim.switches.tokenMaxRequests = null;
    }
  });

  test("429 with Retry-After in seconds waits that long, then succeeds", async () => {
    const { client, waits } = clientFor(sim);
    await client.authenticate();
    sim.sim.inject({ kind: "rate-limit", retryAfter: "seconds", seconds: 7, times: 1 });
    const page = await client.list("/api/contacts", { top: 1 });
    assert.equal(page.rows.length, 1);
    assert.deepEqual(waits, [7000]);
  });

  test("429 with Retry-After as an HTTP date waits until that date", async () => {
    const { client, waits } = clientFor(sim);
    await client.authenticate();
    sim.sim.inject({ kind: "rate-limit", retryAfter: "date", seconds: 30, times: 1 });
    await client.list("/api/contacts", { top: 1 });
    assert.equal(waits.length, 1);
    // An HTTP date has whole seconds: the wait is 29-30 s.
    assert.ok(waits[0] > 28_000 && waits[0] <= 30_000, `wait ${waits[0]}`);
  });

  test("a Retry-After date is read on the server's clock, not the host's", async () => {
    const { client, waits } = clientFor(sim);
    await client.authenticate();
    sim.sim.switches.clockSkewSeconds = 300;
    try {
      sim.sim.inject({ kind: "rate-limit", retryAfter: "date", seconds: 30, times: 1 });
      await client.list("/api/contacts", { top: 1 });
      // Against the host clock this would be a 5-minute wait (capped); the server says 30 s.
      assert.ok(waits[0] > 28_000 && waits[0] <= 31_000, `wait ${waits[0]}`);
    } finally {
      sim.sim.switches.clockSkewSeconds = 0;
    }
  });

  test("429 without Retry-After backs off exponentially", async () => {
    const { client, waits } = clientFor(sim);
    await client.authenticate();
    sim.sim.inject({ kind: "rate-limit", retryAfter: "none", times: 2 });
    await client.list("/api/contacts", { top: 1 });
    assert.deepEqual(waits, [backoffDelay(1, () => 1), backoffDelay(2, () => 1)]);
  });

  test("a burst of 500/502/503/504 is retried with backoff, then succeeds", async () => {
    const statuses: number[] = [];
    const { client, waits } = clientFor(sim, {
      maxRetries: 4,
      onResponse: (info) => statuses.push(info.status),
    });
    await client.authenticate();
    for (const status of [500, 502, 503, 504]) {
      sim.sim.inject({ kind: "status", status, times: 1 });
    }
    const before = client.requestCount;
    const page = await client.list("/api/contacts", { top: 2 });
    assert.equal(page.rows.length, 2);
    assert.equal(client.requestCount - before, 5);
    assert.deepEqual(waits, [1, 2, 3, 4].map((n) => backoffDelay(n, () => 1)));
    assert.deepEqual(statuses, [200, 500, 502, 503, 504, 200]);
  });

  test("a persistent 500 fails after maxRetries with HttpError", async () => {
    const { client, waits } = clientFor(sim, { maxRetries: 2 });
    await client.authenticate();
    sim.sim.inject({
      kind: "status",
      status: 500,
      times: 3,
      path: "/api/companies",
    });
    const data = sim.sim.stats.dataRequests;
    const error = await rejects(client.list("/api/companies", { top: 1 }));
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 500);
    assert.equal(error.method, "GET");
    assert.match(error.url, /\/api\/companies\?\$top=1$/);
    assert.match(error.message, /after 3 attempts/);
    assert.equal(sim.sim.stats.dataRequests - data, 3);
    assert.equal(waits.length, 2);
  });

  test("a timeout is retried, and fails with status 0 when it persists", async () => {
    const { client } = clientFor(sim, { timeoutMs: 150, maxRetries: 1 });
    await client.authenticate();
    sim.sim.inject({ kind: "slow", ms: 1500, times: 1 });
    const page = await client.list("/api/contacts", { top: 1 });
    assert.equal(page.rows.length, 1);
    sim.sim.inject({ kind: "slow", ms: 1500, times: 2 });
    const error = await rejects(client.list("/api/contacts", { top: 1 }));
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 0);
    assert.match(error.message, /no response within 150 ms/);
  });

  test("a malformed, truncated, HTML or object body is retried, then fails naming it", async () => {
    const expected: Record<string, RegExp> = {
      malformed: /invalid or truncated JSON/,
      truncated: /invalid or truncated JSON/,
      html: /text\/html/,
      object: /expected a JSON array or an object with "value"/,
    };
    for (const [kind, pattern] of Object.entries(expected)) {
      const { client } = clientFor(sim, { maxRetries: 1 });
      await client.authenticate();
      sim.sim.inject({ kind, times: 1 } as Parameters<typeof sim.sim.inject>[0]);
      const page = await client.list("/api/contacts", { top: 1 });
      assert.equal(page.rows.length, 1, kind);
      sim.sim.inject({ kind, times: 2 } as Parameters<typeof sim.sim.inject>[0]);
      const error = await rejects(client.list("/api/contacts", { top: 1 }));
      assert.ok(error instanceof HttpError, kind);
      assert.match(error.message, pattern, kind);
      assert.match(error.message, /unusable body|no response/, kind);
    }
  });

  test("404 and 400 fail at once", async () => {
    const { client, waits } = clientFor(sim);
    await client.authenticate();
    let before = client.requestCount;
    const missing = await rejects(client.list("/api/no-such-thing", { top: 1 }));
    assert.ok(missing instanceof HttpError);
    assert.equal(missing.status, 404);
    assert.equal(client.requestCount - before, 1);
    before = client.requestCount;
    sim.sim.inject({ kind: "status", status: 400, times: 1 });
    const bad = await rejects(client.list("/api/contacts", { top: 1 }));
    assert.ok(bad instanceof HttpError);
    assert.equal(bad.status, 400);
    assert.equal(client.requestCount - before, 1);
    assert.deepEqual(waits, []);
  });

  test("a caller abort stops at once without retry", async () => {
    const { client } = clientFor(sim, { maxRetries: 3 });
    await client.authenticate();
    sim.sim.inject({ kind: "slow", ms: 3000, times: 1 });
    const controller = new AbortController();
    const before = client.requestCount;
    const started = Date.now();
    const call = client.list("/api/contacts", { top: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop")), 50);
    const error = await rejects(call);
    assert.equal(error.message, "stop");
    assert.equal(client.requestCount - before, 1);
    assert.ok(Date.now() - started < 2500);
  });

  test("pauseMs spaces request starts; latency and the caller's work count towards it", async () => {
    // A virtual clock: sleeps and the server's latency advance it, nothing waits for real.
    let clock = 1_000_000;
    const starts: number[] = [];
    const sleeps: number[] = [];
    let latency = 0;
    let inFlight = 0;
    let mostInFlight = 0;
    const real = createFetch();
    const { client } = clientFor(sim, {
      pauseMs: 250,
      now: () => clock,
      sleep: (ms) => {
        sleeps.push(ms);
        clock += ms;
        return Promise.resolve();
      },
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        starts.push(clock);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        try {
          const response = await real(input, init);
          const text = await response.text();
          clock += latency;
          return new Response(text, { status: response.status, headers: response.headers });
        } finally {
          inFlight--;
        }
      }) as typeof fetch,
    });
    await client.authenticate(); // starts at 1_000_000
    latency = 300; // slower than the pause: the next request goes at once
    await client.list("/api/contacts", { top: 1 }); // 1_000_250 (waits 250), ends 1_000_550
    await client.list("/api/contacts", { top: 1 }); // 1_000_550, no sleep
    latency = 100;
    await client.list("/api/contacts", { top: 1 }); // 1_000_850, ends 1_000_950
    clock += 60; // the caller's own work (writing a page)
    await client.list("/api/contacts", { top: 1 }); // 1_001_100: sleeps 90, not 250; ends 1_001_200
    latency = 0;
    await Promise.all([ // concurrent callers still go one at a time, a pause apart
      client.list("/api/contacts", { top: 1 }),
      client.list("/api/contacts", { top: 1 }),
    ]);
    assert.deepEqual(sleeps, [250, 90, 150, 250]);
    assert.deepEqual(starts.map((t) => t - 1_000_000), [0, 250, 550, 850, 1100, 1350, 1600]);
    for (let i = 1; i < starts.length; i++) assert.ok(starts[i] - starts[i - 1] >= 250);
    assert.equal(mostInFlight, 1);
  });

  test("pauseMs is kept between requests that follow each other at once", async () => {
    let clock = 1_000_000;
    const { client, waits } = clientFor(sim, { pauseMs: 400, now: () => clock });
    await client.authenticate();
    clock += 100;
    await client.list("/api/contacts", { top: 1 });
    clock += 1000;
    await client.list("/api/contacts", { top: 1 });
    assert.deepEqual(waits, [300]);
  });

  test("X-RateLimit-Remaining 0 waits for X-RateLimit-Reset before the next request", async () => {
    const waits: number[] = [];
    const { client } = clientFor(sim, {
      sleep: (ms) => {
        waits.push(ms);
        sim.sim.switches.rateLimit = null; // the window has passed
        return Promise.resolve();
      },
    });
    await client.list("/api/contacts", { top: 1 }); // authorize, then the last call of the window
    sim.sim.switches.rateLimit = { limit: 1 };
    await client.list("/api/contacts", { top: 1 });
    assert.deepEqual(waits, []);
    const page = await client.list("/api/contacts", { top: 1 });
    assert.equal(page.rows.length, 1);
    assert.equal(waits.length, 1);
    assert.ok(waits[0] >= 1000 && waits[0] <= 60_000, `wait ${waits[0]}`);
  });

  test("system() needs no login", async () => {
    const { client } = clientFor(sim);
    const auths = sim.sim.stats.authorizations;
    const system = await client.system();
    assert.equal(typeof system.apiVersion, "string");
    assert.equal(sim.sim.stats.authorizations, auths);
  });
});

describe("dropped connections", () => {
  test("a connection dropped mid-body is retried, and fails with status 0 when it persists", async () => {
    const sim = await startSimulator({ records: 5, seed: 5 });
    try {
      const { client } = clientFor(sim, { maxRetries: 1 });
      await client.authenticate();
      sim.sim.inject({ kind: "drop", times: 1 });
      let data = sim.sim.stats.dataRequests;
      const page = await client.list("/api/contacts", { top: 1 });
      assert.equal(page.rows.length, 1);
      // Bun's fetch may itself repeat a request whose connection closed: 2 or 3 requests.
      assert.ok(sim.sim.stats.dataRequests - data >= 2);
      sim.sim.inject({ kind: "drop", times: 100 });
      data = sim.sim.stats.dataRequests;
      const before = client.requestCount;
      const error = await rejects(client.list("/api/contacts", { top: 1 }));
      assert.ok(error instanceof HttpError);
      assert.equal(error.status, 0);
      assert.match(error.message, /failed with no response after 2 attempts/);
      assert.equal(client.requestCount - before, 2);
      assert.ok(sim.sim.stats.dataRequests - data >= 2);
    } finally {
      await sim.close();
    }
  });
});

describe("authentication", () => {
  test("a display name with spaces and non-ASCII letters logs in", async () => {
    const sim = await startSimulator({
      records: 5,
      seed: 2,
      username: "Jöhn Høllo",
      password: "pässwörd 1",
      database: "Ünïcode DB",
    });
    try {
      const { client } = clientFor(sim, {
        username: "Jöhn Høllo",
        password: "pässwörd 1",
        database: "Ünïcode DB",
      });
      const page = await client.list("/api/contacts", { top: 1 });
      assert.equal(page.rows.length, 1);
      assert.equal(sim.sim.stats.authorizations, 1);
    } finally {
      await sim.close();
    }
  });

  test("a wrong password fails with 'Failed to authenticate…' and leaks no secret", async () => {
    const sim = await startSimulator({ records: 5, seed: 3 });
    try {
      const lines: string[] = [];
      const logger = createLogger({ level: "FINE", write: (line) => lines.push(line) });
      const password = "wrong-secret-pw";
      const { client, waits } = clientFor(sim, { password, logger });
      const error = await rejects(client.list("/api/contacts", { top: 1 }));
      assert.ok(error.message.startsWith(AUTH_FAILED_MESSAGE), error.message);
      assert.match(error.message, /401/);
      assert.ok(!error.message.includes(password));
      assert.deepEqual(waits, []);
      assert.ok(lines.length > 0);
      for (const line of lines) assert.ok(!line.includes(password), line);
    } finally {
      await sim.close();
    }
  });
});

describe("TLS", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSimulator({
      records: 5,
      seed: 4,
      cert: readFileSync(`${TLS_DIR}server.pem`, "utf8"),
      key: readFileSync(`${TLS_DIR}server_key.pem`, "utf8"),
    });
  });
  after(async () => {
    await sim.close();
  });

  test("the simulator serves HTTPS", () => {
    assert.match(sim.url, /^https:\/\//);
  });

  test("without ca_file the self-signed certificate is refused", async () => {
    const { client } = clientFor(sim, { maxRetries: 0, fetch: createFetch() });
    const error = await rejects(client.system());
    assert.ok(error instanceof HttpError);
    assert.equal(error.status, 0);
  });

  test("ca_file makes the certificate trusted", async () => {
    const fetch = createFetch({ caFile: `${TLS_DIR}ca.pem` });
    const { client } = clientFor(sim, { fetch });
    const page = await client.list("/api/contacts", { top: 1 });
    assert.equal(page.rows.length, 1);
  });

  test("tlsVerify false connects and warns once", async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    const fetch = createFetch({ tlsVerify: false, logger });
    const { client } = clientFor(sim, { fetch });
    const page = await client.list("/api/contacts", { top: 1 });
    await client.list("/api/companies", { top: 1 });
    assert.equal(page.rows.length, 1);
    assert.equal(lines.filter((line) => /WARNING.*tls_verify: false/.test(line)).length, 1);
  });
});
