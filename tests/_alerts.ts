/**
 * Shared by the alert tests: the secrets they look for, targets for the local receivers, and a
 * service running in-process whose runs can be awaited.
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after } from "./_skip.ts";
import { type Config, parseConfig } from "../src/config/mod.ts";
import { createLogger } from "../src/core/log.ts";
import { runService, type ServiceDeps } from "../src/service/mod.ts";
import type { RunRecord } from "../src/service/monitor.ts";
import { type RunningSimulator, simulatorConfig } from "../src/simulator/mod.ts";
import { tempDir } from "./_helpers.ts";

export const PASSWORD = "Act-pa55-9d1e";
export const TOKEN = "hook-token-5f0c2a77e1";
export const SMTP_PASSWORD = "smtp-Secret-81b2";
const NEVER = "0 0 1 1 *";
const dir = tempDir("act-sync-alerts-");
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

export function folder(): string {
  const path = join(dir, `a${++counter}`);
  mkdirSync(path, { recursive: true });
  return path;
}

export function webhook(port: number, format = "json") {
  return { url: `http://127.0.0.1:${port}/hooks/${TOKEN}`, format };
}

export function email(port: number) {
  return {
    smtp_host: "127.0.0.1",
    smtp_port: port,
    security: "none",
    user: "alerts",
    password_env: "ACT_TEST_SMTP_PASSWORD",
    from: "act-sync@example.com",
    to: ["it@example.com"],
  };
}

export function configFor(
  sim: RunningSimulator,
  where: string,
  notify: unknown[],
  extra: Record<string, unknown> = {},
): Config {
  return parseConfig(
    simulatorConfig(sim.url, {
      password: PASSWORD,
      destination: `sqlite:${join(where, "act.db")}`,
      state_file: join(where, "state.json"),
      schedule: NEVER,
      max_retries: 0,
      notify,
      ...extra,
    }),
    { baseDir: where, env: { ACT_TEST_SMTP_PASSWORD: SMTP_PASSWORD } },
  ).config;
}

/** A service in-process on a free port; `run(n)` resolves with its n-th finished run. */
export async function startService(
  config: Config,
  notifier: ServiceDeps["notifier"] = {},
  now?: () => number,
  extra: Partial<ServiceDeps> = {},
) {
  const controller = new AbortController();
  const runs: RunRecord[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const lines: string[] = [];
  const logger = createLogger({ level: "INFO", format: "json", write: (l) => lines.push(l) });
  const { promise: listening, resolve: onListen } = Promise.withResolvers<number>();
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
    notifier: { retryDelayMs: 50, retryForMs: 2000, ...notifier },
    now,
    ...extra,
  });
  const base = `http://127.0.0.1:${await listening}`;
  return {
    base,
    lines,
    run(n: number): Promise<RunRecord> {
      if (runs.length >= n) return Promise.resolve(runs[n - 1]);
      const { promise, resolve } = Promise.withResolvers<void>();
      waiters.push({ n, resolve });
      return promise.then(() => runs[n - 1]);
    },
    async sync(n: number): Promise<RunRecord> {
      const response = await fetch(`${base}/sync`, { method: "POST" });
      await response.body?.cancel();
      assert.equal(response.status, 202);
      return await this.run(n);
    },
    async health(): Promise<{ status: number; body: Record<string, unknown> }> {
      const response = await fetch(`${base}/health`);
      return { status: response.status, body: await response.json() };
    },
    async stop(): Promise<number> {
      controller.abort();
      return await done;
    },
  };
}

/** Wait (bounded) until `ready()` holds. */
export async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !ready(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(ready(), `timed out waiting for ${what}`);
}
