import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Pacer } from "../src/act/pacer.ts";
import { ActClient } from "../src/act/client.ts";

/**
 * A virtual clock: `sleep` registers a timer; {@linkcode FakeClock.drive} lets every pending
 * promise run, then moves the clock to the next timer, until the work settles.
 */
class FakeClock {
  t = 1_000_000;
  #timers: { at: number; resolve: () => void }[] = [];
  now = (): number => this.t;
  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => this.#timers.push({ at: this.t + Math.max(0, ms), resolve }));

  async drive<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const settled = work.finally(() => done = true);
    settled.catch(() => {});
    for (let i = 0; i < 100_000 && !done; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0)); // every pending microtask runs
      if (done) break;
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers.shift();
      if (!next) continue;
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    assert.ok(done, "the work settled");
    return await work;
  }
}

interface Log {
  starts: { at: number; connection: number }[];
  most: number;
}

/** `n` requests of `latency` ms each through `pacer`, all wanting to start at once. */
function requests(pacer: Pacer, clock: FakeClock, n: number, latency: number, log: Log) {
  let inFlight = 0;
  return Promise.all(Array.from({ length: n }, async () => {
    const slot = await pacer.acquire();
    log.starts.push({ at: clock.t - 1_000_000, connection: slot.connection });
    log.most = Math.max(log.most, ++inFlight);
    await clock.sleep(latency);
    inFlight--;
    slot.release();
  }));
}

describe("Pacer", () => {
  test("one connection: one request at a time, starts at least the interval apart", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({
      maxParallel: 1,
      intervalMs: 250,
      now: clock.now,
      sleep: clock.sleep,
    });
    const log: Log = { starts: [], most: 0 };
    await clock.drive(requests(pacer, clock, 4, 100, log));
    assert.deepEqual(log.starts.map((s) => s.at), [0, 250, 500, 750]);
    assert.equal(log.most, 1);
    // Slower than the interval: the next request goes when the previous one ends.
    const slow: Log = { starts: [], most: 0 };
    clock.t += 1000;
    const base = clock.t - 1_000_000;
    await clock.drive(requests(pacer, clock, 3, 400, slow));
    assert.deepEqual(slow.starts.map((s) => s.at - base), [0, 400, 800]);
  });

  test("several connections: at most maxParallel in flight, each connection keeps its interval", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({
      maxParallel: 3,
      intervalMs: 250,
      now: clock.now,
      sleep: clock.sleep,
    });
    const log: Log = { starts: [], most: 0 };
    await clock.drive(requests(pacer, clock, 9, 100, log));
    assert.equal(log.most, 3);
    assert.deepEqual(log.starts.map((s) => s.at), [0, 0, 0, 250, 250, 250, 500, 500, 500]);
    for (let c = 0; c < 3; c++) {
      const own = log.starts.filter((s) => s.connection === c).map((s) => s.at);
      for (let i = 1; i < own.length; i++) assert.ok(own[i] - own[i - 1] >= 250, `${own}`);
    }
  });

  test("pauseUntil holds every connection until that time", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ maxParallel: 4, intervalMs: 0, now: clock.now, sleep: clock.sleep });
    pacer.pauseUntil(clock.t + 5000);
    const log: Log = { starts: [], most: 0 };
    await clock.drive(requests(pacer, clock, 4, 10, log));
    assert.deepEqual(log.starts.map((s) => s.at), [5000, 5000, 5000, 5000]);
  });

  test("throttle: one request in flight, then the limit climbs back one step per recoveryMs", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({
      maxParallel: 4,
      intervalMs: 0,
      recoveryMs: 1000,
      now: clock.now,
      sleep: clock.sleep,
    });
    assert.equal(pacer.limit, 4);
    pacer.throttle();
    assert.equal(pacer.limit, 1);
    const log: Log = { starts: [], most: 0 };
    await clock.drive(requests(pacer, clock, 3, 400, log));
    assert.equal(log.most, 1, "one at a time right after a throttle");
    assert.deepEqual(log.starts.map((s) => s.at), [0, 400, 800]);
    clock.t = 1_000_000 + 1000;
    assert.equal(pacer.limit, 2);
    clock.t = 1_000_000 + 2500;
    assert.equal(pacer.limit, 3);
    clock.t = 1_000_000 + 3000;
    assert.equal(pacer.limit, 4);
    const later: Log = { starts: [], most: 0 };
    await clock.drive(requests(pacer, clock, 8, 100, later));
    assert.equal(later.most, 4);
  });

  test("an abort ends the wait for a connection and holds none", async () => {
    const clock = new FakeClock();
    const pacer = new Pacer({ maxParallel: 1, intervalMs: 0, now: clock.now, sleep: clock.sleep });
    const held = await pacer.acquire();
    const controller = new AbortController();
    const waiting = pacer.acquire(controller.signal);
    controller.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    assert.equal(pacer.inFlight, 1);
    held.release();
    held.release(); // once only
    assert.equal(pacer.inFlight, 0);
    (await pacer.acquire()).release();
  });
});

/** A fake Act! server: `/authorize` gives a token; data calls answer what `answer` says. */
function fakeServer(clock: FakeClock, answer: (n: number) => Response, latency = 100) {
  const log = { starts: [] as number[], inFlight: 0, most: 0, n: 0 };
  const serve = (async (input: RequestInfo | URL) => {
    const url = String(input);
    if (url.includes("/authorize")) return new Response("token");
    const n = ++log.n;
    log.starts.push(clock.t - 1_000_000);
    log.most = Math.max(log.most, ++log.inFlight);
    await clock.sleep(latency);
    log.inFlight--;
    return answer(n);
  }) as typeof globalThis.fetch;
  return { fetch: serve, log };
}

function client(clock: FakeClock, fetch: typeof globalThis.fetch, maxParallel: number) {
  return new ActClient({
    baseUrl: "http://act.test/act.web.api",
    username: "u",
    password: "p",
    database: "db",
    pauseMs: 0,
    maxParallel,
    random: () => 1,
    now: clock.now,
    sleep: clock.sleep,
    fetch,
  });
}

const ok = (headers: Record<string, string> = {}) => new Response("[]", { headers });

describe("ActClient pacing", () => {
  test("X-RateLimit-Remaining 0 holds every connection until X-RateLimit-Reset", async () => {
    const clock = new FakeClock();
    const server = fakeServer(
      clock,
      (n) => n === 1 ? ok({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30" }) : ok(),
    );
    const c = client(clock, server.fetch, 4);
    await clock.drive(c.authenticate());
    await clock.drive(c.list("/api/users"));
    await clock.drive(Promise.all([1, 2, 3].map(() => c.list("/api/users"))));
    assert.deepEqual(server.log.starts, [0, 30_100, 30_100, 30_100]);
  });

  test("a 429 drops to one request in flight, Retry-After is honoured, then the limit climbs back", async () => {
    const clock = new FakeClock();
    const server = fakeServer(
      clock,
      (n) =>
        n === 1 ? new Response("busy", { status: 429, headers: { "retry-after": "2" } }) : ok(),
    );
    const c = client(clock, server.fetch, 4);
    await clock.drive(c.authenticate());
    await clock.drive(c.list("/api/users"));
    assert.deepEqual(server.log.starts, [0, 2100], "the retry waits Retry-After");
    server.log.most = 0;
    await clock.drive(Promise.all(Array.from({ length: 6 }, () => c.list("/api/users"))));
    assert.equal(server.log.most, 1, "one in flight right after a 429");
    clock.t += 60_000;
    server.log.most = 0;
    await clock.drive(Promise.all(Array.from({ length: 8 }, () => c.list("/api/users"))));
    assert.equal(server.log.most, 4, "back to max_parallel_requests");
  });

  test("a 503 drops to one request in flight too; other statuses do not", async () => {
    for (const [status, most] of [[503, 1], [500, 4]] as const) {
      const clock = new FakeClock();
      const server = fakeServer(clock, (n) => n === 1 ? new Response("", { status }) : ok());
      const c = client(clock, server.fetch, 4);
      await clock.drive(c.authenticate());
      await clock.drive(c.list("/api/users"));
      server.log.most = 0;
      await clock.drive(Promise.all(Array.from({ length: 6 }, () => c.list("/api/users"))));
      assert.equal(server.log.most, most, `after ${status}`);
    }
  });
});
