/**
 * The monitoring HTTP app of service mode, built from its dependencies (no globals): pure
 * request → response, served by `listen()` from `src/core/listen.ts`.
 *
 * | route | auth | answer |
 * | --- | --- | --- |
 * | `GET /health` | never | 200 `{"status":"ok",…}` or 503 `{"status":"failing"\|"stale","reason":…}` |
 * | `GET /state` | token | the state file plus per-table status, the run in progress, recent runs |
 * | `GET /metrics` | token | Prometheus text format |
 * | `GET /` | token | the status page (HTML, no script, refreshes itself) |
 * | `POST /sync` | token | 202 a run started, 409 one is running |
 * | `POST /stop` | token, or a loopback bind | 202: finish the page being written, then exit |
 *
 * With a token, a request needs `Authorization: Bearer <token>` (or HTTP Basic with the token as
 * password, so that a browser can open the status page); otherwise 401. `POST /sync` takes only
 * Bearer: a browser resends a cached Basic credential by itself, so a form on another site could
 * otherwise start runs.
 *
 * Against DNS rebinding (a web page whose host name is made to point at this machine), a request
 * without a valid token must name one of our hosts in `Host`: the bound address, `localhost`,
 * `127.0.0.1`, `::1`, or a name in `http_allowed_hosts` (any port); otherwise 421. This applies
 * to every route, `/health` included; a request that carries the token passes whatever its
 * `Host`, since a rebinding page cannot know the token. A `POST /sync` whose `Origin` (or
 * `Sec-Fetch-Site: cross-site`) shows it comes from another site is refused with 403.
 *
 * A malformed request is answered 400 with a one-line JSON error before any route, token or `Host`
 * check: more than one `Host`, a `Host` that is not one host name or address with an optional
 * port from 0 to 65535, a request URL that does not parse, or, with `requireHost` (the service),
 * no `Host` at all (HTTP/1.0 included). No answer ever carries a stack trace, a path on this
 * machine or source code: an unexpected error is a 500 with a fixed text, and its message goes to
 * the service log.
 *
 * Every response body passes through the one redaction ({@linkcode Secrets}: strings, then the
 * serialized text), so a registered secret (password, Act! token) never leaves the process.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * import { Monitor } from "./monitor.ts";
 * const monitor = new Monitor({ tables: ["contacts"], schedule: "* * * * *", intervalMs: 60_000 });
 * const app = createApp({ monitor, startRun: () => null });
 * const response = await app.request("/health");
 * console.log(response.status, await response.json());
 * ```
 *
 * @module
 */
import { decodeBasic } from "../core/basic.ts";
import { errorMessage } from "../core/errors.ts";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { Context } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "../core/log.ts";
import { Secrets } from "../core/secrets.ts";
import { formatMetrics, METRICS_CONTENT_TYPE } from "./metrics.ts";
import type { State } from "../state/mod.ts";
import type { Monitor } from "./monitor.ts";
import { renderStatusPage } from "./status_page.ts";

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
  /** FINE line per request. */
  logger?: Logger;
  /** Redacted from every response body. @default {logger.secrets, else none} */
  secrets?: Secrets;
  /** `http_host`: the address the server is bound to; accepted in `Host` unless a wildcard. */
  host?: string;
  /** `http_allowed_hosts` (and, for a wildcard bind, the machine's addresses): also accepted. */
  allowedHosts?: readonly string[];
  /**
   * Ask the service to finish the page being written and exit (`POST /stop`, `act-sync stop`).
   * Without a token, only a service bound to loopback accepts it. @default {no /stop route}
   */
  requestStop?: () => void;
  /** Warnings shown on the status page and in `/state` (e.g. an exposed endpoint without token). */
  warnings?: readonly string[];
  /** Clock for request durations. @default {performance.now} */
  now?: () => number;
  /**
   * Refuse (400) a request without a `Host` header; the service sets it for its socket. Without
   * it, such a request is judged by its URL's host (`app.request()` in tests). @default {false}
   */
  requireHost?: boolean;
}

/** Build the monitoring app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? (() => performance.now());
  const secrets = deps.secrets ?? deps.logger?.secrets ?? new Secrets();
  const hosts = ourHosts(deps.host, deps.allowedHosts ?? []);
  const warnings = deps.warnings ?? [];
  const send = (c: Context, body: string, status: number, type: string): Response =>
    c.body(secrets.redact(body), status as 200, {
      "content-type": type,
      "cache-control": "no-store",
    });
  const json = (c: Context, value: unknown, status = 200): Response =>
    send(c, secrets.json(value, 2) + "\n", status, "application/json; charset=utf-8");
  const hasToken = (c: Context): boolean =>
    deps.token !== undefined && authorized(c.req.header("authorization"), deps.token);

  app.use(async (c, next) => {
    const started = now();
    await next();
    deps.logger?.fine(`HTTP ${c.req.method} ${pathOf(c.req.url)}`, {
      status: c.res.status,
      ms: Math.round((now() - started) * 10) / 10,
    });
  });

  app.use(async (c, next) => {
    const problem = requestProblem(c.req.raw, { requireHost: deps.requireHost });
    if (problem !== undefined) return json(c, { error: `Bad request: ${problem}` }, 400);
    await next();
  });

  app.use(async (c, next) => {
    const host = requestHost(c);
    if (hosts.has(host.name) || hasToken(c)) {
      await next();
      return;
    }
    return json(c, {
      error: `Misdirected request: host "${host.name}" is not served here; ` +
        `add it to 'http_allowed_hosts' if this is the name of this machine`,
    }, 421);
  });

  app.get("/health", (c) => {
    const health = deps.monitor.health();
    return json(c, health, health.status === "ok" || health.status === "starting" ? 200 : 503);
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
        stateError = errorMessage(error);
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
      ...(warnings.length ? { warnings } : {}),
      ...(stateError ? { state_error: stateError } : {}),
    });
  });

  app.get(
    "/metrics",
    (c) => send(c, formatMetrics(deps.monitor.snapshot()), 200, METRICS_CONTENT_TYPE),
  );

  app.get(
    "/",
    (c) =>
      send(
        c,
        // Redacted before it is rendered: the page turns a quoted HTML error page into its text,
        // which could otherwise change a secret's spelling past the redaction of the body.
        renderStatusPage(JSON.parse(secrets.json(deps.monitor.snapshot())), { warnings }),
        200,
        "text/html; charset=utf-8",
      ),
  );

  /**
   * The checks of a route that acts (POST): with a token, Bearer only (a browser resends a cached
   * Basic credential by itself, so a form on another site could otherwise act); without one, and
   * with `tokenOffLoopback`, only a service bound to loopback; and never a request that shows it
   * comes from another site (`Origin`, `Sec-Fetch-Site: cross-site`).
   */
  const acting = (route: string, options: { tokenOffLoopback?: boolean } = {}) =>
    createMiddleware(async (c, next) => {
      if (deps.token) {
        if (!authorized(c.req.header("authorization"), deps.token, { basic: false })) {
          c.header("www-authenticate", `Bearer realm="act-sync"`);
          return json(c, {
            error: `Unauthorized: ${route} needs 'Authorization: Bearer <http_token>'`,
          }, 401);
        }
      } else if (options.tokenOffLoopback && !loopbackBind(deps.host)) {
        return json(c, {
          error:
            `Forbidden: ${route} needs 'http_token' when 'http_host' is not a loopback address`,
        }, 403);
      }
      const origin = c.req.header("origin");
      if (
        c.req.header("sec-fetch-site") === "cross-site" ||
        (origin !== undefined && !sameOrigin(origin, requestHost(c).value))
      ) {
        return json(c, {
          error: `Forbidden: ${route} from another site: origin "${origin ?? "unknown"}"`,
        }, 403);
      }
      await next();
    });

  app.post("/sync", acting("POST /sync"), (c) => {
    const id = deps.startRun();
    if (id === null) {
      const running = deps.monitor.snapshot().running;
      return json(c, { status: "busy", run: running?.id ?? null }, 409);
    }
    return json(c, { status: "started", run: id }, 202);
  });

  if (deps.requestStop) {
    const requestStop = deps.requestStop;
    app.post("/stop", acting("POST /stop", { tokenOffLoopback: true }), (c) => {
      deps.logger?.info("Stop requested over HTTP (act-sync stop)");
      requestStop();
      return json(c, { status: "stopping" }, 202);
    });
  }

  app.notFound((c) => json(c, { error: `Not found: ${pathOf(c.req.url)}` }, 404));
  app.onError((error, c) => {
    deps.logger?.severe(`HTTP ${c.req.method} ${pathOf(c.req.url)} failed`, {
      error: errorMessage(error),
    });
    return json(c, { error: "Internal error; see the service log" }, 500);
  });
  return app;
}

/**
 * Whether an `Authorization` header carries the token (Bearer, or Basic with it as password
 * unless `basic` is false).
 */
export function authorized(
  header: string | undefined,
  token: string,
  options: { basic?: boolean } = {},
): boolean {
  if (!header) return false;
  const [scheme, value = ""] = header.trim().split(/\s+/, 2);
  let given: string;
  if (/^bearer$/i.test(scheme)) {
    given = value;
  } else if (/^basic$/i.test(scheme) && options.basic !== false) {
    const password = decodeBasic(value)?.password;
    if (password === null || password === undefined) return false;
    given = password;
  } else {
    return false;
  }
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

const WILDCARDS = new Set(["0.0.0.0", "::", "*", ""]);

/** Host names (lower case, IPv6 without brackets) accepted in `Host` without a token. */
function ourHosts(bound: string | undefined, allowed: readonly string[]): Set<string> {
  const hosts = new Set(["localhost", "127.0.0.1", "::1"]);
  const name = bound?.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1") ?? "";
  if (!WILDCARDS.has(name)) hosts.add(name);
  for (const host of allowed) hosts.add(host.toLowerCase().replace(/^\[(.*)\]$/, "$1"));
  return hosts;
}

/**
 * A `Host` header we can read: one host name, IPv4 address or bracketed IPv6 address, with an
 * optional port of at most five digits (checked against 65535 apart).
 */
const HOST_HEADER = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.-]*))(?::(\d{1,5}))?$/i;

/**
 * Why a request is malformed (more than one `Host`, one that names no single host and port, a URL
 * that does not parse, no `Host` when `requireHost`), or undefined when it can be served. A
 * runtime joins repeated headers with ", ", so two `Host` lines fail like `Host: a, b`.
 */
export function requestProblem(
  request: Request,
  options: { requireHost?: boolean } = {},
): string | undefined {
  const host = request.headers.get("host");
  if (host === null) {
    if (options.requireHost) return "the request has no 'Host' header";
  } else {
    const match = HOST_HEADER.exec(host.trim());
    if (!match || (match[1] !== undefined && Number(match[1]) > 65535)) {
      return "'Host' must be one host name or address, with an optional port from 0 to 65535";
    }
  }
  try {
    new URL(request.url);
  } catch {
    return "the request target is not a valid URL";
  }
  return undefined;
}

/** The path of a request URL for a log line or a message; never throws. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.startsWith("/") ? url.replace(/[?#].*$/s, "") : "(malformed URL)";
  }
}

/** The `Host` of a request: as sent (`value`) and its name without port or brackets (`name`). */
function requestHost(c: Context): { value: string; name: string } {
  const value = (c.req.header("host") ?? new URL(c.req.url).host).trim().toLowerCase();
  const match = /^\[([^\]]*)\](?::\d*)?$/.exec(value) ?? /^([^:]*)(?::\d*)?$/.exec(value);
  return { value, name: (match?.[1] ?? value).replace(/\.$/, "") };
}

/** Whether an `Origin` header names the same site as the request's `Host` (http or https). */
function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host === host;
  } catch {
    return false; // "null" (a sandboxed frame, a file:// page) or garbage
  }
}

/** Whether the service is bound to a loopback address (only this machine can connect). */
function loopbackBind(host: string | undefined): boolean {
  const h = (host ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}
