/**
 * The monitoring HTTP app of service mode, built from its dependencies (no globals): pure
 * request → response, served by `listen()` from `_listen.ts`.
 *
 * | route | auth | answer |
 * | --- | --- | --- |
 * | `GET /health` | never | 200 `{"status":"ok",…}` or 503 `{"status":"failing"\|"stale","reason":…}` |
 * | `GET /state` | token | the state file plus per-table status, the run in progress, recent runs |
 * | `GET /metrics` | token | Prometheus text format |
 * | `GET /` | token | the status page (HTML, no script, refreshes itself) |
 * | `POST /sync` | token | 202 a run started, 409 one is running |
 *
 * With a token, a request needs `Authorization: Bearer <token>` (or HTTP Basic with the token as
 * password, so that a browser can open the status page); otherwise 401. Every response body
 * passes through the logger's redaction, so a registered secret (password, Act! token) never
 * leaves the process.
 *
 * @example
 * ```ts
 * import { createApp } from "./server.ts";
 * import { Monitor } from "./status.ts";
 * const monitor = new Monitor({ tables: ["contacts"], schedule: "* * * * *", intervalMs: 60_000 });
 * const app = createApp({ monitor, startRun: () => null });
 * const response = await app.request("/health");
 * console.log(response.status, await response.json());
 * ```
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "./log.ts";
import { formatMetrics, METRICS_CONTENT_TYPE } from "./metrics.ts";
import type { State } from "./state.ts";
import type { Monitor } from "./status.ts";
import { renderStatusPage } from "./_status_page.ts";

/** What the app needs. */
export interface AppDeps {
  /** The live status. */
  monitor: Pick<Monitor, "health" | "snapshot">;
  /** Start a run now; returns its id, or null when a run is already in progress. */
  startRun: () => string | null;
  /** The state file as it is now; the monitor's copy is shown when this throws. */
  readState?: () => State;
  /** `http_token`: when set, everything but `/health` needs it. */
  token?: string;
  /** FINE line per request; its redaction is applied to every response body. */
  logger?: Logger;
  /** Clock for request durations. @default {performance.now} */
  now?: () => number;
}

/** Build the monitoring app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? (() => performance.now());
  const redact = (text: string) => deps.logger?.redact(text) ?? text;
  const send = (c: Context, body: string, status: number, type: string): Response =>
    c.body(redact(body), status as 200, {
      "content-type": type,
      "cache-control": "no-store",
    });
  const json = (c: Context, value: unknown, status = 200): Response =>
    send(c, JSON.stringify(value, null, 2) + "\n", status, "application/json; charset=utf-8");

  app.use(async (c, next) => {
    const started = now();
    await next();
    deps.logger?.fine(`HTTP ${c.req.method} ${new URL(c.req.url).pathname}`, {
      status: c.res.status,
      ms: Math.round((now() - started) * 10) / 10,
    });
  });

  app.get("/health", (c) => {
    const health = deps.monitor.health();
    return json(c, health, health.status === "ok" ? 200 : 503);
  });

  app.use(async (c, next) => {
    if (!deps.token || authorized(c.req.header("authorization"), deps.token)) {
      await next();
      return;
    }
    c.header("www-authenticate", `Bearer realm="act-sync"`, { append: true });
    c.header("www-authenticate", `Basic realm="act-sync", charset="UTF-8"`, { append: true });
    return json(c, {
      error: "Unauthorized: send 'Authorization: Bearer <http_token>'",
    }, 401);
  });

  app.get("/state", (c) => {
    const snapshot = deps.monitor.snapshot();
    let state: State = snapshot.state;
    let stateError: string | undefined;
    if (deps.readState) {
      try {
        state = deps.readState();
      } catch (error) {
        stateError = error instanceof Error ? error.message : String(error);
      }
    }
    return json(c, {
      health: snapshot.health,
      service: {
        started_at: snapshot.started_at,
        schedule: snapshot.schedule,
        next_run: snapshot.health.next_run,
      },
      tables: snapshot.tables,
      running: snapshot.running,
      last_run: snapshot.last_run,
      runs: snapshot.runs,
      state,
      ...(stateError ? { state_error: stateError } : {}),
    });
  });

  app.get(
    "/metrics",
    (c) => send(c, formatMetrics(deps.monitor.snapshot()), 200, METRICS_CONTENT_TYPE),
  );

  app.get(
    "/",
    (c) => send(c, renderStatusPage(deps.monitor.snapshot()), 200, "text/html; charset=utf-8"),
  );

  app.post("/sync", (c) => {
    const id = deps.startRun();
    if (id === null) {
      const running = deps.monitor.snapshot().running;
      return json(c, { status: "busy", run: running?.id ?? null }, 409);
    }
    return json(c, { status: "started", run: id }, 202);
  });

  app.notFound((c) => json(c, { error: `Not found: ${new URL(c.req.url).pathname}` }, 404));
  app.onError((error, c) => {
    deps.logger?.severe(`HTTP ${c.req.method} ${new URL(c.req.url).pathname} failed`, {
      error: error.message,
    });
    return json(c, { error: "Internal error; see the service log" }, 500);
  });
  return app;
}

/** Whether an `Authorization` header carries the token (Bearer, or Basic with it as password). */
export function authorized(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  let given: string;
  if (/^bearer$/i.test(scheme)) {
    given = value;
  } else if (/^basic$/i.test(scheme)) {
    let decoded: string;
    try {
      decoded = new TextDecoder().decode(Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0)));
    } catch {
      return false;
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    given = decoded.slice(colon + 1);
  } else {
    return false;
  }
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}
