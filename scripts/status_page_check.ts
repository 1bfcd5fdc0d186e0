/**
 * Look at the status page as a person would: start the simulator and the service in-process, run
 * good syncs (with new and changed rows in between) and a failing one, then load `GET /` in
 * headless Chromium, check what it shows (charts included) and save a screenshot.
 *
 *     deno run -A scripts/status_page_check.ts [status_page.png]
 *     bun scripts/status_page_check.ts [status_page.png]
 *
 * Needs Debian's `chromium`. Exits 0 when the page shows every table, 1 otherwise.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseConfig } from "../src/config/mod.ts";
import { silentLogger } from "../src/core/log.ts";
import { runService } from "../src/service/mod.ts";
import type { RunRecord } from "../src/service/monitor.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { runChromium } from "./chromium.ts";

const screenshot = resolve(process.argv[2] ?? "status_page.png");
const dir = mkdtempSync(join(tmpdir(), "act-sync-page-"));
const sim = await startSimulator({ records: 50 });
const config = parseConfig({
  protocol: "http",
  hostname: "127.0.0.1",
  port: sim.port,
  username: "demo",
  password: "demo",
  database_name: "ActDemo",
  destination: `sqlite:${join(dir, "act.db")}`,
  state_file: join(dir, "state.json"),
  schedule: "0 0 1 1 *",
  max_retries: 0,
  rate_limit_pause: 0,
}, { baseDir: dir }).config;

const controller = new AbortController();
const { promise: listening, resolve: onListen } = Promise.withResolvers<number>();
let ended = Promise.withResolvers<RunRecord>();
const service = runService(config, {
  logger: silentLogger(),
  stdout: () => {},
  stderr: () => {},
  signal: controller.signal,
  port: 0,
  onListen: ({ port }) => onListen(port),
  onRunEnd: (record) => ended.resolve(record),
});
const base = `http://127.0.0.1:${await listening}`;
let failures = 0;
try {
  await ended.promise;
  let runs = 1;
  for (let i = 0; i < 4; i++) {
    ended = Promise.withResolvers<RunRecord>();
    for (let n = 0; n < 5 * i; n++) sim.sim.insert("contacts");
    sim.sim.edit("companies", sim.sim.idAt("companies", i));
    await fetch(`${base}/sync`, { method: "POST" }).then((r) => r.body?.cancel());
    await ended.promise;
    runs++;
  }
  ended = Promise.withResolvers<RunRecord>();
  runs++;
  sim.sim.inject({ kind: "status", status: 500, times: 1, path: "/api/opportunities" });
  await fetch(`${base}/sync`, { method: "POST" }).then((r) => r.body?.cancel());
  await ended.promise;

  const profile = mkdtempSync(join(tmpdir(), "act-sync-chromium-"));
  // Asynchronous on purpose: the service answering Chromium runs in this process.
  const dom = await runChromium("chromium", profile, ["--dump-dom", `${base}/`]);
  await runChromium("chromium", profile, [
    "--window-size=1300,900",
    `--screenshot=${screenshot}`,
    `${base}/`,
  ]);
  rmSync(profile, { recursive: true, force: true });
  const checks: [string, RegExp | ((dom: string) => boolean)][] = [
    ["health badge says failing", /<span id="health" class="badge failing">failing<\/span>/],
    ["opportunities shows its error", /<tr data-table="opportunities">.*status 500/],
    ["contacts is ok", /<tr data-table="contacts">.*class="badge ok">ok</],
    ["two runs are listed", /<tr data-run=.*\n<tr data-run=/],
    [`the duration chart has ${runs} points`, pointsIn("chart-duration", runs)],
    [`the rows chart has ${runs} points`, pointsIn("chart-rows", runs)],
    [`contacts' row count chart has ${runs} points`, pointsIn("contacts", runs)],
  ];
  for (const [what, pattern] of checks) {
    const ok = typeof pattern === "function" ? pattern(dom) : pattern.test(dom);
    if (!ok) failures++;
    console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  }
  console.log(`screenshot: ${screenshot}`);
} finally {
  controller.abort();
  await service;
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
}
/** Whether the chart (by id, or in a table's row) has exactly `n` points. */
function pointsIn(where: string, n: number): (dom: string) => boolean {
  const start = where.startsWith("chart-")
    ? `<svg id="${where}"`
    : `<tr data-table="${where}">.*?<svg`;
  return (dom) =>
    (new RegExp(`${start}[^]*?</svg>`).exec(dom)?.[0].match(/<circle /g)?.length ?? 0) === n;
}

process.exit(failures === 0 ? 0 : 1);
