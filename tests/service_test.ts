import { after, describe, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import process from "node:process";
import { runSync } from "../src/jobs/sync.ts";
import { type Config, parseConfig } from "../src/config/mod.ts";
import { createLogger, silentLogger } from "../src/core/log.ts";
import { runService } from "../src/service/mod.ts";
import { readState } from "../src/state/mod.ts";
import type { RunRecord } from "../src/service/monitor.ts";
import { TABLE_NAMES } from "../src/act/tables.ts";
import { type RunningSimulator, simulatorConfig, startSimulator } from "../src/simulator/mod.ts";
import { runChromium } from "../scripts/chromium.ts";
import { assertMirrors, freePort, spawnCli, sqliteCount, sqliteRows, tempDir } from "./_helpers.ts";
import { PROMTOOL_SKIP, promtoolCheck } from "./_promtool.ts";

const PASSWORD = "Pa55-word-7c41e9";
const NEVER = "0 0 1 1 *"; // once a year: runs come from start-up and POST /sync only
const ROOT = new URL("..", import.meta.url).pathname;
const dir = tempDir("act-sync-service-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function folder(): string {
  const path = join(dir, `s${++counter}`);
  mkdirSync(path, { recursive: true });
  return path;
}

function rawConfig(sim: RunningSimulator, where: string, extra: Record<string, unknown> = {}) {
  return simulatorConfig(sim.url, {
    password: PASSWORD,
    destination: `sqlite:${join(where, "act.db")}`,
    state_file: join(where, "state.json"),
    schedule: NEVER,
    max_retries: 0,
    batch_size: 50,
    ...extra,
  });
}

function configFor(sim: RunningSimulator, where: string, extra: Record<string, unknown> = {}) {
  return parseConfig(rawConfig(sim, where, extra), { baseDir: where }).config;
}

/** A service running in-process on a free port, with hooks to wait for runs. */
async function startService(config: Config) {
  const controller = new AbortController();
  const runs: RunRecord[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const lines: string[] = [];
  const bearers = new Set<string>();
  const bodies: string[] = [];
  const logger = createLogger({ level: "FINE", format: "json", write: (l) => lines.push(l) });
  const { promise: listening, resolve: onListen } = Promise.withResolvers<number>();
  const recordingFetch: typeof fetch = (input, init) => {
    const headers = input instanceof Request ? input.headers : new Headers(init?.headers);
    const auth = headers.get("authorization");
    if (auth?.startsWith("Bearer ")) bearers.add(auth.slice(7));
    return fetch(input, init);
  };
  const done = runService(config, {
    logger,
    stdout: () => {},
    stderr: () => {},
    signal: controller.signal,
    port: 0,
    onListen: ({ port }) => onListen(port),
    onRunEnd: (record) => {
      runs.push(record);
      for (const w of waiters.filter((w) => runs.length >= w.n)) w.resolve();
    },
    fetch: recordingFetch,
  });
  const port = await Promise.race([
    listening,
    done.then((code) => Promise.reject(new Error(`runService ended early with ${code}`))),
  ]);
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    runs,
    lines,
    bearers,
    bodies,
    /** Resolves with the n-th finished run (1-based). */
    run(n: number): Promise<RunRecord> {
      if (runs.length >= n) return Promise.resolve(runs[n - 1]);
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.push({ n, resolve });
      return promise.then(() => runs[n - 1]);
    },
    async get(path: string, init?: RequestInit): Promise<Response> {
      const response = await fetch(`${base}${path}`, init);
      const text = await response.text();
      bodies.push(text);
      return new Response(text, { status: response.status, headers: response.headers });
    },
    async stop(): Promise<number> {
      controller.abort();
      return await done;
    },
  };
}

function assertMirrorsAll(sim: RunningSimulator, config: Config): void {
  const db = config.destination.slice("sqlite:".length);
  for (const table of config.tables) {
    assertMirrors(table, sim.sim.rows(table), sqliteRows(db, table));
    assert.equal(sqliteCount(db, table), sim.sim.count(table), `${table}: no duplicates`);
  }
}

describe("runService() against the simulator", () => {
  test("first run makes /health 200; a failing run makes it 503 with the error in /state; recovery makes it 200", async () => {
    const sim = await startSimulator({ records: 60, seed: 3, password: PASSWORD });
    const config = configFor(sim, folder());
    const svc = await startService(config);
    try {
      const first = await svc.run(1);
      assert.equal(first.result, "ok", first.error ?? JSON.stringify(first.tables));
      assert.equal(first.reason, "start-up");
      let response = await svc.get("/health");
      assert.equal(response.status, 200);
      let health = await response.json();
      assert.equal(health.status, "ok");
      assert.equal(health.last_success, first.finished_at);
      assert.match(health.next_run, /^\d{4}-01-01T/);
      assertMirrorsAll(sim, config);

      sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/contacts" });
      response = await svc.get("/sync", { method: "POST" });
      assert.equal(response.status, 202);
      const second = await svc.run(2);
      assert.equal(second.result, "failed");
      response = await svc.get("/health");
      assert.equal(response.status, 503);
      health = await response.json();
      assert.equal(health.status, "failing");
      assert.match(
        health.reason,
        new RegExp(`1 of ${TABLE_NAMES.length} tables failed \\(contacts\\)`),
      );
      const state = await (await svc.get("/state")).json();
      assert.equal(state.tables.contacts.status, "failed");
      assert.match(state.tables.contacts.last_error.message, /500/);
      assert.equal(state.tables.companies.status, "ok");
      assert.equal(state.tables.companies.rows_total, sim.sim.count("companies"));
      assert.equal(state.last_run.id, second.id);
      assert.equal(state.state.table_cursors.companies !== undefined, true);

      const metrics = await (await svc.get("/metrics")).text();
      assert.match(metrics, /^act_sync_runs_total\{result="ok"\} 1$/m);
      assert.match(metrics, /^act_sync_runs_total\{result="failed"\} 1$/m);
      assert.match(metrics, /^act_sync_http_requests_total\{status="500"\} [1-9]/m);
      const synced = Number(
        /^act_sync_rows_synced_total\{table="contacts"\} (\d+)$/m.exec(metrics)?.[1],
      );
      assert.ok(synced >= sim.sim.count("contacts"), `rows synced: ${synced}`);

      sim.sim.edit("contacts", String(sim.sim.rows("contacts")[0].id), { firstName: "Edited" });
      response = await svc.get("/sync", { method: "POST" });
      assert.equal(response.status, 202);
      const third = await svc.run(3);
      assert.equal(third.result, "ok");
      response = await svc.get("/health");
      assert.equal(response.status, 200);
      assert.equal((await response.json()).status, "ok");
      assertMirrorsAll(sim, config);
      await svc.get("/");

      // Nothing leaks: neither the password nor any Act! token, in responses or log lines.
      assert.ok(svc.bearers.size > 0, "the client used a bearer token");
      const secrets = [PASSWORD, ...svc.bearers];
      for (const text of [...svc.bodies, ...svc.lines]) {
        for (const secret of secrets) assert.ok(!text.includes(secret), `leak in: ${text}`);
      }
      // JSON log lines, each run's lines carry its own run id; every request is logged at FINE.
      const parsed = svc.lines.map((line) => JSON.parse(line));
      for (const record of [first, second, third]) {
        const started = parsed.find((l) =>
          l.message === `Run ${record.id} started (${record.reason})`
        );
        assert.equal(started?.run, record.id);
      }
      assert.ok(parsed.some((l) => l.level === "FINE" && l.message === "HTTP GET /health"));
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });

  test("GET /metrics of a service after a good and a failed run passes promtool check metrics", {
    skip: PROMTOOL_SKIP,
  }, async () => {
    const sim = await startSimulator({ records: 30, seed: 5, password: PASSWORD });
    const svc = await startService(configFor(sim, folder()));
    try {
      assert.equal((await svc.run(1)).result, "ok");
      sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/contacts" });
      assert.equal((await svc.get("/sync", { method: "POST" })).status, 202);
      assert.equal((await svc.run(2)).result, "failed");
      const metrics = await (await svc.get("/metrics")).text();
      assert.match(metrics, /^act_sync_http_requests_total\{status="500"\} [1-9]/m);
      const contacts = sim.sim.count("contacts");
      assert.match(
        metrics,
        new RegExp(`^act_sync_rows_new_total\\{table="contacts"\\} ${contacts}$`, "m"),
      );
      assert.match(metrics, /^act_sync_rows_updated_total\{table="contacts"\} 0$/m);
      assert.match(metrics, /^act_sync_rows_unchanged_total\{table="companies"\} [1-9]/m);
      assert.deepEqual(promtoolCheck(metrics), { status: 0, output: "" });
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });

  test("POST /sync answers 409 while a run is in progress; a token guards everything but /health", async () => {
    const sim = await startSimulator({
      records: 30,
      seed: 4,
      password: PASSWORD,
      switches: { latencyMs: 40 },
    });
    const token = "tok-9d8e7f6a5b";
    const config = configFor(sim, folder(), { http_token: token, batch_size: 10 });
    const svc = await startService(config);
    try {
      const auth = { authorization: `Bearer ${token}` };
      const busy = await svc.get("/sync", { method: "POST", headers: auth });
      assert.equal(busy.status, 409, "the start-up run is still going");
      for (
        const [method, path] of [["GET", "/state"], ["GET", "/metrics"], ["GET", "/"], [
          "POST",
          "/sync",
        ]]
      ) {
        const denied = await svc.get(path, { method });
        assert.equal(denied.status, 401, `${method} ${path}`);
      }
      assert.equal((await svc.get("/health")).status, 200);
      assert.equal((await svc.get("/state", { headers: auth })).status, 200);
      assert.equal((await svc.run(1)).result, "ok");
      assert.equal(svc.runs.length, 1, "no second run was started");
      for (const text of [...svc.bodies, ...svc.lines]) assert.ok(!text.includes(token));
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });

  test("a reconcile in progress shows as running, and POST /sync meanwhile answers 409 naming it", async () => {
    const sim = await startSimulator({ records: 30, seed: 6, password: PASSWORD });
    // Reconcile every second; sync only at start-up and on POST /sync.
    const config = configFor(sim, folder(), { reconcile_schedule: "* * * * * *" });
    const svc = await startService(config);
    try {
      assert.equal((await svc.run(1)).kind, "sync", "the start-up run is a sync");
      // The reconcile's first data request is held for a while: it is in progress meanwhile.
      const { promise: requested, resolve } = Promise.withResolvers<void>();
      const unhook = sim.sim.onRequest(() => resolve());
      sim.sim.inject({ kind: "slow", ms: 60_000, times: 1 });
      await requested;
      unhook();
      const health = await (await svc.get("/health")).json();
      assert.equal(health.running, true, "/health: running during a reconcile");
      const state = await (await svc.get("/state")).json();
      assert.equal(state.running?.kind, "reconcile", "/state names the reconcile");
      const busy = await svc.get("/sync", { method: "POST" });
      assert.equal(busy.status, 409);
      assert.deepEqual(await busy.json(), { status: "busy", run: state.running.id });
      const metrics = await (await svc.get("/metrics")).text();
      assert.match(metrics, /^act_sync_running 1$/m);
      const page = await (await svc.get("/")).text();
      assert.ok(page.includes(state.running.id), "the status page shows the reconcile");
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
    const reconcile = svc.runs.find((r) => r.kind === "reconcile");
    assert.ok(reconcile, "the reconcile's end was reported");
    assert.equal(svc.runs.filter((r) => r.kind === "sync").length, 1, "no sync started meanwhile");
  });

  test("the schedule (with a seconds field) runs again, never two runs at once, skipping ticks during a run", async () => {
    const sim = await startSimulator({
      records: 20,
      seed: 5,
      password: PASSWORD,
      switches: { latencyMs: 70 },
    });
    const config = configFor(sim, folder(), { schedule: "* * * * * *", batch_size: 10 });
    const svc = await startService(config);
    try {
      const first = await svc.run(1);
      const second = await svc.run(2);
      assert.equal(first.result, "ok");
      assert.equal(second.result, "ok");
      assert.equal(second.reason, "schedule");
      assert.ok(Date.parse(second.started_at) >= Date.parse(first.finished_at!), "no overlap");
      assert.ok((first.duration_seconds ?? 0) > 1, "a run spans several ticks");
      const metrics = await (await svc.get("/metrics")).text();
      const skipped = Number(/^act_sync_skipped_ticks_total (\d+)$/m.exec(metrics)?.[1]);
      assert.ok(skipped >= 1, `skipped ticks: ${skipped}`);
      assert.ok(svc.lines.some((l) => l.includes("Skipped the schedule run")));
      // A tick skipped while the start-up run still reads is routine: INFO; during a scheduled
      // run (a run longer than the interval), a WARNING.
      const skippedDuring = (id: string) =>
        svc.lines.map((l) => JSON.parse(l)).filter((l) =>
          l.message.startsWith("Skipped the schedule run") && l.message.includes(id)
        );
      const duringStartUp = skippedDuring(first.id);
      assert.ok(duringStartUp.length >= 1, "ticks skipped during the start-up run");
      for (const line of duringStartUp) assert.equal(line.level, "INFO", line.message);
      for (const line of skippedDuring(second.id)) {
        assert.equal(line.level, "WARNING", line.message);
      }
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });

  test("stopping an idle service is INFO; the activity-types 404 fallback is logged once per process", async () => {
    const sim = await startSimulator({ records: 20, seed: 12, password: PASSWORD });
    const svc = await startService(configFor(sim, folder()));
    const lines = () => svc.lines.map((l) => JSON.parse(l));
    try {
      assert.equal((await svc.run(1)).result, "ok");
      assert.equal((await svc.get("/sync", { method: "POST" })).status, 202);
      assert.equal((await svc.run(2)).result, "ok");
      const fallback = lines().filter((l) => /answered 404, using/.test(l.message));
      // Once per process: earlier tests in this process may have logged it already.
      assert.ok(fallback.length <= 1, JSON.stringify(fallback));
      for (const line of fallback) assert.equal(line.level, "INFO");
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
    const stop = lines().filter((l) => l.message.startsWith("Stop requested"));
    assert.deepEqual(stop.map((l) => [l.level, l.message]), [["INFO", "Stop requested: stopping"]]);
  });

  test("the run history survives a restart: the page charts the runs from before it", async () => {
    const sim = await startSimulator({ records: 20, seed: 13, password: PASSWORD });
    const config = configFor(sim, folder());
    let svc = await startService(config);
    let first: RunRecord;
    try {
      first = await svc.run(1);
      assert.equal(first.result, "ok");
    } finally {
      assert.equal(await svc.stop(), 0);
    }
    const saved = readState(config.state_file).history as { id: string }[];
    assert.deepEqual(saved.map((s) => s.id), [first.id]);
    svc = await startService(config);
    try {
      const second = await svc.run(1);
      const page = await (await svc.get("/")).text();
      const chart = /<svg id="chart-duration"[^]*?<\/svg>/.exec(page)?.[0] ?? "";
      assert.equal(chart.match(/<circle /g)?.length, 2, chart);
      assert.match(page, new RegExp(`<tr data-run="${first.id}" class="earlier">.*before restart`));
      assert.match(page, new RegExp(`<tr data-run="${second.id}">`));
      assert.equal((readState(config.state_file).history as unknown[]).length, 2);
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });

  test("a stop during a run saves the state, and the next run completes with nothing lost", async () => {
    const sim = await startSimulator({
      records: 80,
      seed: 6,
      password: PASSWORD,
      switches: { latencyMs: 15 },
    });
    const config = configFor(sim, folder(), { batch_size: 10 });
    const svc = await startService(config);
    let stopping: Promise<number> | null = null;
    const unsubscribe = sim.sim.onRequest((info) => {
      if (info.n === 12 && !stopping) stopping = svc.stop();
    });
    const first = await svc.run(1);
    unsubscribe();
    assert.ok(stopping, "the stop was requested mid-run");
    assert.equal(await stopping, 0);
    assert.equal(first.result, "stopped");
    const state = readState(config.state_file);
    assert.ok(
      Object.keys(state.table_cursors).length < TABLE_NAMES.length,
      "the run was cut short",
    );
    const run = await runSync(config, {}, { logger: silentLogger() });
    assert.equal(run.ok, true, run.error ?? JSON.stringify(run.tables));
    assertMirrorsAll(sim, config);
    await sim.close();
  });
});

const CHROMIUM = ["chromium", "chromium-browser"].find((name) =>
  spawnSync(name, ["--version"], { encoding: "utf8" }).status === 0
);

describe("status page in a real browser", () => {
  test(
    "headless Chromium renders the status page of a running service",
    { skip: CHROMIUM ? false : "chromium not installed (apt-get install chromium)" },
    async () => {
      const sim = await startSimulator({ records: 30, seed: 8, password: PASSWORD });
      const config = configFor(sim, folder());
      const svc = await startService(config);
      const profile = folder();
      try {
        assert.equal((await svc.run(1)).result, "ok");
        const dom = await runChromium(CHROMIUM!, profile, ["--dump-dom", `${svc.base}/`]);
        assert.match(dom, /<\/html>/);
        assert.match(dom, /<span id="health" class="badge ok">ok<\/span>/);
        for (const table of TABLE_NAMES) {
          const row = new RegExp(`<tr data-table="${table}">(.*?)</tr>`).exec(dom)?.[1] ?? "";
          assert.match(row, /class="badge ok">ok</, `${table} row: ${row}`);
          const rows = sim.sim.count(table).toLocaleString("en-US");
          assert.match(row, new RegExp(`<td class="n">${rows}</td>`), `${table} row count`);
        }
        assert.match(dom, /<tr data-run="[0-9a-f]{8}">.*start-up.*class="badge ok">ok</);
        assert.ok(!dom.includes(PASSWORD));
      } finally {
        assert.equal(await svc.stop(), 0);
        await sim.close();
      }
    },
  );

  test(
    "the charts have one point per run, and without SVG the tables still carry every number",
    { skip: CHROMIUM ? false : "chromium not installed (apt-get install chromium)" },
    async () => {
      const sim = await startSimulator({ records: 30, seed: 9, password: PASSWORD });
      const config = configFor(sim, folder());
      const svc = await startService(config);
      const profile = folder();
      try {
        assert.equal((await svc.run(1)).result, "ok");
        sim.sim.insert("contacts");
        assert.equal((await svc.get("/sync", { method: "POST" })).status, 202);
        assert.equal((await svc.run(2)).result, "ok");
        sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/companies" });
        assert.equal((await svc.get("/sync", { method: "POST" })).status, 202);
        assert.equal((await svc.run(3)).result, "failed");
        const dom = await runChromium(CHROMIUM!, profile, ["--dump-dom", `${svc.base}/`]);
        const circles = (svg: string) => svg.match(/<circle /g)?.length ?? 0;
        for (const id of ["chart-duration", "chart-rows"]) {
          const svg = new RegExp(`<svg id="${id}"[^]*?</svg>`).exec(dom)?.[0] ?? "";
          assert.equal(circles(svg), 3, `${id}: ${svg}`);
          assert.match(svg, /<circle class="failed"/, id);
        }
        for (const table of TABLE_NAMES) {
          const row = new RegExp(`<tr data-table="${table}">(.*?)</tr>`).exec(dom)?.[1] ?? "";
          assert.equal(circles(row), 3, `${table} row: ${row}`);
        }
        // Without the charts, the tables carry the numbers: rows per table, and per run the
        // rows written, new, updated and unchanged.
        const text = dom.replace(/<svg[^]*?<\/svg>/g, "");
        assert.doesNotMatch(text, /<circle/);
        for (const table of TABLE_NAMES) {
          const row = new RegExp(`<tr data-table="${table}">(.*?)</tr>`).exec(text)?.[1] ?? "";
          const rows = sim.sim.count(table).toLocaleString("en-US");
          assert.match(row, new RegExp(`<td class="n">${rows}</td>`), `${table} row count`);
        }
        for (const run of svc.runs) {
          const row = new RegExp(`<tr data-run="${run.id}">(.*?)</tr>`).exec(text)?.[1] ?? "";
          const sum = (pick: (t: RunRecord["tables"][number]) => number | undefined) =>
            run.tables.reduce((n, t) => n + (pick(t) ?? 0), 0).toLocaleString("en-US");
          const cells = [
            sum((t) => t.rows_written),
            sum((t) => t.rows_new),
            sum((t) => t.rows_updated),
            sum((t) => t.rows_unchanged),
          ].map((n) => `<td class="n">${n}</td>`).join("");
          assert.ok(row.includes(cells), `run ${run.id}: ${cells} in ${row}`);
        }
        assert.equal(svc.runs[1].tables.find((t) => t.table === "contacts")?.rows_new, 1);
      } finally {
        assert.equal(await svc.stop(), 0);
        await sim.close();
      }
    },
  );
});

describe("act-sync service as a process", () => {
  test("SIGTERM during a run exits 0 with a state file from which --once completes, nothing lost", async () => {
    const sim = await startSimulator({
      records: 80,
      seed: 9,
      password: PASSWORD,
      switches: { latencyMs: 30 },
    });
    const where = folder();
    const configPath = join(where, "configuration.json");
    writeFileSync(
      configPath,
      JSON.stringify(rawConfig(sim, where, { batch_size: 10, http_port: await freePort() })),
    );
    try {
      const service = start(["--config", configPath]);
      await service.waitFor(/Table contacts synced/);
      // process.kill, not child.kill: Deno's child_process reports a child killed through
      // child.kill() as ended by the signal even when it exits by itself with 0.
      process.kill(service.child.pid!, "SIGTERM");
      const stopped = await service.exit;
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /Service stopped/);
      const state = readState(join(where, "state.json"));
      assert.ok(state.table_cursors.contacts, "contacts completed before the stop");
      assert.ok(
        Object.keys(state.table_cursors).length < TABLE_NAMES.length,
        "the stop came mid-run",
      );
      const once = start(["--once", "--config", configPath]);
      const result = await once.exit;
      assert.equal(result.code, 0, result.stderr);
      assertMirrorsAll(sim, configFor(sim, where));
      assert.ok(!stopped.stderr.includes(PASSWORD) && !result.stderr.includes(PASSWORD));
    } finally {
      await sim.close();
    }
  });
});

function start(args: string[]) {
  return spawnCli(args, { cwd: ROOT, timeoutMs: 90_000 });
}

describe("runService() exposure", () => {
  /** GET through a real socket with a Host header of our choosing. */
  function getWithHost(port: number, path: string, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port, path, headers: { host } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  test("on a non-loopback address without token: a WARNING at start and on the status page; a foreign Host gets 421", async () => {
    const sim = await startSimulator({ records: 10, password: PASSWORD });
    const config = configFor(sim, folder(), { http_host: "0.0.0.0" });
    const svc = await startService(config);
    try {
      await svc.run(1);
      const warning = svc.lines.map((l) => JSON.parse(l)).find((l) => l.level === "WARNING");
      assert.match(
        warning?.message ?? "",
        /has no 'http_token'.*\/state.*POST \/sync.*set 'http_token'/,
      );
      const page = await (await svc.get("/")).text();
      assert.match(page, /Warning:.*has no &#39;http_token&#39;/);
      const port = Number(new URL(svc.base).port);
      assert.equal(await getWithHost(port, "/state", "rebound.evil.example"), 421);
      assert.equal(await getWithHost(port, "/state", `localhost:${port}`), 200);
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });

  test("on loopback there is no warning", async () => {
    const sim = await startSimulator({ records: 10, password: PASSWORD });
    const svc = await startService(configFor(sim, folder()));
    try {
      await svc.run(1);
      assert.ok(!svc.lines.some((l) => l.includes("http_token")), "no warning");
      assert.doesNotMatch(await (await svc.get("/")).text(), /Warning:/);
    } finally {
      assert.equal(await svc.stop(), 0);
      await sim.close();
    }
  });
});
