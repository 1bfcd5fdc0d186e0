/**
 * The Act! Web API client: one request path with the token (get, reuse, renew once on 401),
 * retries with backoff and `Retry-After`, rate-limit pauses, timeouts, and strict body parsing.
 *
 * @example Needs an Act! Web API at that address (`act-sync simulate --port 8790` starts one), so
 * `deno test --doc` does not run it
 * ```ts ignore
 * import { ActClient } from "./client.ts";
 * const client = new ActClient({
 *   baseUrl: "http://127.0.0.1:8790/act.web.api",
 *   username: "demo",
 *   password: "demo",
 *   database: "ActDemo",
 * });
 * const page = await client.list("/api/contacts", { top: 100, skip: 0 });
 * console.log(page.rows.length, page.envelope);
 * ```
 *
 * @module
 */
import { basicAuthorization } from "../core/basic.ts";
import { AccessError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { redactUrlCredentials, Secrets } from "../core/secrets.ts";
import { parseHttpDate } from "../core/time.ts";
import { joinUrl, type OdataQuery } from "./odata.ts";
import { UnusableBodyError } from "./body_errors.ts";
import { decodeBody, parseListBytes, parseToken } from "./response_body.ts";
import { type LazyRows, splitListBytes } from "./split_rows.ts";
import {
  type Attempt,
  AUTH_FAILED_MESSAGE,
  classify,
  exhausted,
  type Parse,
  serverNow,
} from "./classify.ts";
import { backoffDelay, rateLimitWait, RETRY_POLICY } from "./retry.ts";
import { createFetch } from "./tls.ts";
import { Pacer, type Slot } from "./pacer.ts";

export type { OdataQuery };
export { AUTH_FAILED_MESSAGE };

/** What {@linkcode ActClientOptions.onResponse} receives for every HTTP attempt. */
export interface ResponseInfo {
  /** Request method. */
  method: string;
  /** Request URL without secrets. */
  url: string;
  /** HTTP status, or 0 when no response came (network error, timeout). */
  status: number;
  /** Duration in ms, body included. */
  ms: number;
  /** `X-RateLimit-Remaining`, or null when absent. */
  rateLimitRemaining: number | null;
}

/** Options for {@linkcode ActClient}. */
export interface ActClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8790/act.web.api`. */
  baseUrl: string;
  /** Act! display name (may contain spaces and non-ASCII letters). */
  username: string;
  /** Password; never logged. */
  password: string;
  /** Act! database name, sent as `Act-Database-Name`. */
  database: string;
  /** The fetch to use. @default {createFetch()} */
  fetch?: typeof fetch;
  /** Clock in ms. @default {Date.now} */
  now?: () => number;
  /** Sleep used for backoff and pauses. @default {setTimeout-based} */
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). @default {Math.random} */
  random?: () => number;
  /** Retries after the first attempt. @default {3} */
  maxRetries?: number;
  /**
   * Time for connecting, with the default fetch (see `withConnectTimeout`); 0 turns it off.
   * @default {5000}
   */
  connectTimeoutMs?: number;
  /** Timeout per HTTP attempt, body included. @default {120000} */
  timeoutMs?: number;
  /**
   * Least time between the starts of consecutive requests on one connection (at most one
   * request per `pauseMs` on each); the latency of a request and the caller's work overlap with
   * it. @default {250}
   */
  pauseMs?: number;
  /**
   * Requests in flight at most (`max_parallel_requests`), paced by `src/act/pacer.ts`: one after
   * a 429 or 503, climbing back gradually. @default {1}
   */
  maxParallel?: number;
  /** FINE logs every request (method, URL without secrets, status, ms); retries log WARNING. */
  logger?: Logger;
  /**
   * Where the client registers the password, `username:password` and every token it receives;
   * error bodies are redacted with it before they are cut into messages.
   * @default {logger.secrets, else a set of its own}
   */
  secrets?: Secrets;
  /** Called after every HTTP attempt (for metrics); status 0 = no response. */
  onResponse?: (info: ResponseInfo) => void;
  /** Called when an HTTP attempt is sent (for `/health`: how long it has waited). */
  onRequest?: () => void;
}

/** One page of a list endpoint. */
export interface OdataPage {
  /**
   * The records, in server order. With {@linkcode ListInit.lazy}, parsed when first asked for
   * (a bad row then throws `UnusableRowError` here, without a retry).
   */
  readonly rows: Record<string, unknown>[];
  /** With {@linkcode ListInit.lazy}, when the body could be split: its rows, parsed on demand. */
  lazy?: LazyRows;
  /** Ms since the epoch from the response `Date` header; null if absent or invalid. */
  serverDate: number | null;
  /** `value` for `{"value": [...]}`, `array` for a bare JSON array. */
  envelope: "value" | "array";
}

/** Options for one call. */
export interface CallInit {
  /** Aborts the call at once (no retry). */
  signal?: AbortSignal;
}

/** Options for one {@linkcode ActClient.list} call. */
export interface ListInit extends CallInit {
  /**
   * Parse rows only when asked for ({@linkcode OdataPage.lazy}): the response's structure is
   * checked before the call returns, a row's JSON when it is read.
   */
  lazy?: boolean;
}

/** The versions `/api/system` reports, whatever the spelling of their keys; null when absent. */
export interface SystemVersions {
  apiVersion: string | null;
  sdkVersion: string | null;
}

/**
 * The versions from an `/api/system` body: `apiVersion`, `APIVersion` or any other case of the
 * key; a value that is not a string or number counts as absent.
 */
export function systemVersions(system: Record<string, unknown>): SystemVersions {
  const find = (name: string): string | null => {
    for (const [key, value] of Object.entries(system)) {
      if (key.toLowerCase() !== name) continue;
      if (typeof value === "string" && value.trim() !== "") return value;
      if (typeof value === "number") return String(value);
    }
    return null;
  };
  return { apiVersion: find("apiversion"), sdkVersion: find("sdkversion") };
}

/** Most extra token renewals of one call (see {@linkcode ActClient}'s 401 handling). */
const MAX_TOKEN_RACES = 16;

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no response within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A client for the list endpoints of the Act! Web API. */
export class ActClient {
  #base: string;
  #username: string;
  #password: string;
  #database: string;
  #fetch: typeof fetch;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;
  #random: () => number;
  #maxRetries: number;
  #timeoutMs: number;
  #pacer: Pacer;
  #logger?: Logger;
  #secrets: Secrets;
  #onResponse?: (info: ResponseInfo) => void;
  #onRequest?: () => void;
  #token: string | null = null;
  /** The Act! refusal (4031, 4032) met so far: every later call fails with it at once. */
  #refused: AccessError | null = null;
  #authorizing: Promise<string> | null = null;
  #requestCount = 0;
  /** Data requests sent with the current token. */
  #tokenUses = 0;

  constructor(options: ActClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#username = options.username;
    this.#password = options.password;
    this.#database = options.database;
    this.#logger = options.logger;
    this.#fetch = options.fetch ??
      createFetch({ logger: options.logger, connectTimeoutMs: options.connectTimeoutMs ?? 5_000 });
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#maxRetries = Math.max(0, options.maxRetries ?? RETRY_POLICY.limit);
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#pacer = new Pacer({
      maxParallel: options.maxParallel ?? 1,
      intervalMs: Math.max(0, options.pauseMs ?? 250),
      now: this.#now,
      sleep: this.#sleep,
    });
    this.#onResponse = options.onResponse;
    this.#onRequest = options.onRequest;
    this.#secrets = options.secrets ?? options.logger?.secrets ?? new Secrets();
    this.#secrets.addCredentials(options.username, options.password);
  }

  /** The Act! refusal (error 4031 or 4032) that ended this client's calls, or null. */
  get refusal(): AccessError | null {
    return this.#refused;
  }

  /** HTTP requests sent so far, retries and `/authorize` included. */
  get requestCount(): number {
    return this.#requestCount;
  }

  /** Get a token from `GET {base}/authorize` (done lazily by the first data call). */
  async authenticate(init: CallInit = {}): Promise<void> {
    await this.#authorize(null, init.signal);
  }

  /** `GET {base}/api/system` (no login): version and culture information. */
  system(init: CallInit = {}): Promise<Record<string, unknown>> {
    const url = joinUrl(this.#base, "/api/system");
    return this.#call(url, { auth: false, signal: init.signal }, (attempt) => {
      let data: unknown;
      try {
        data = JSON.parse(attempt.text);
      } catch (error) {
        throw new UnusableBodyError(
          `Cannot read /api/system response: invalid JSON: got "${
            this.#secrets.excerpt(attempt.text, 200)
          }"`,
          { cause: error },
        );
      }
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new UnusableBodyError(
          `Cannot read /api/system response: expected an object: got "${
            this.#secrets.excerpt(attempt.text, 200)
          }"`,
        );
      }
      return data as Record<string, unknown>;
    });
  }

  /** `GET {base}{path}?{query}` on a list endpoint; accepts both envelopes, rejects anything else. */
  list(path: string, query?: OdataQuery, init: ListInit = {}): Promise<OdataPage> {
    const url = joinUrl(this.#base, path, query);
    return this.#call(url, { auth: true, signal: init.signal }, (attempt): OdataPage => {
      const contentType = attempt.headers.get("content-type");
      const date = attempt.headers.get("date");
      const serverDate = date ? parseHttpDate(date) : null;
      const redact = (text: string) => this.#secrets.redact(text);
      const split = splitListBytes(attempt.bytes, contentType, redact);
      if (split && init.lazy) {
        const lazy = split.rows;
        let rows: Record<string, unknown>[] | null = null;
        return {
          get rows() {
            return rows ??= lazy.slice(0, lazy.length);
          },
          lazy,
          envelope: split.envelope,
          serverDate,
        };
      }
      const { rows, envelope } = parseListBytes(attempt.bytes, contentType, split, redact);
      return { rows, envelope, serverDate };
    });
  }

  /** Share one `/authorize` call between concurrent callers; `stale` is the token that failed. */
  #authorize(stale: string | null, signal?: AbortSignal): Promise<string> {
    if (this.#token !== null && this.#token !== stale) return Promise.resolve(this.#token);
    if (!this.#authorizing) {
      this.#token = null;
      const url = joinUrl(this.#base, "/authorize");
      const promise = this.#call(url, { auth: false, authorize: true, signal }, (attempt) => {
        const token = parseToken(attempt.text);
        if (!token) {
          throw new UnusableBodyError("Cannot read /authorize response: the body is empty");
        }
        return token;
      });
      this.#authorizing = promise.then((token) => {
        this.#secrets.addToken(token);
        this.#token = token;
        this.#tokenUses = 0;
        this.#logger?.fine("Authenticated with the Act! Web API", { database: this.#database });
        return token;
      }).finally(() => {
        this.#authorizing = null;
      });
    }
    return this.#authorizing;
  }

  /** One call: attempts until one gives a value or an error (see `classify`). */
  async #call<T>(
    url: string,
    options: { auth: boolean; authorize?: boolean; signal?: AbortSignal },
    parse: Parse<T>,
  ): Promise<T> {
    const { signal } = options;
    const shown = redactUrlCredentials(url);
    let retries = 0;
    let renewed = false;
    /** Renewals after the first, each for a 401 on a token other requests used too. */
    let races = 0;
    let retryDelay = 0;
    for (;;) {
      signal?.throwIfAborted();
      if (this.#refused) throw this.#refused;
      let token: string | null = null;
      const headers: Record<string, string> = {
        "Accept": "application/json",
        "Act-Database-Name": this.#database,
      };
      if (options.authorize) {
        headers["Authorization"] = basicAuthorization(this.#username, this.#password);
      } else if (options.auth) {
        token = await this.#authorize(null, signal);
        headers["Authorization"] = `Bearer ${token}`;
      }
      let outcome: { attempt: Attempt } | { error: unknown };
      let slot: Slot | null = null;
      try {
        slot = await this.#pacer.acquire(signal, retryDelay);
        // Renewed by another request while this one waited for its turn: send the new token.
        for (let i = 0; token !== null && token !== this.#token && i < MAX_TOKEN_RACES; i++) {
          if (this.#token === null) {
            slot.release();
            slot = null;
            const fresh = await this.#authorize(null, signal);
            slot = await this.#pacer.acquire(signal);
            token = fresh;
          } else token = this.#token;
          headers["Authorization"] = `Bearer ${token}`;
        }
        if (token !== null && token === this.#token) this.#tokenUses++;
        outcome = { attempt: await this.#send(url, shown, headers, signal) };
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        outcome = { error };
      } finally {
        slot?.release();
      }
      retryDelay = 0;
      // A token renewed meanwhile, or used by other requests too (a server that expires tokens
      // after a few requests), is no proof of refused access: one request at a time from then
      // on, and a new token.
      const raced = token !== this.#token || this.#tokenUses > 1;
      const mayRenew = !renewed || (raced && races < MAX_TOKEN_RACES);
      const verdict = classify(outcome, {
        shown,
        authorize: options.authorize === true,
        auth: options.auth,
        renewed: !mayRenew,
        now: this.#now(),
        parse,
      });
      if (verdict.kind === "value") return verdict.value;
      if (verdict.kind === "throw") {
        if (verdict.error instanceof AccessError) this.#refused = verdict.error;
        throw verdict.error;
      }
      if (verdict.kind === "renew") {
        if (renewed) {
          races++;
          this.#pacer.throttle();
        }
        renewed = true;
        this.#logger?.fine("Token refused; authenticating again", {
          url: shown,
          status: verdict.status,
        });
        await this.#authorize(token, signal);
        continue;
      }
      const { failure } = verdict;
      if (failure.status === 429 || failure.status === 503) this.#pacer.throttle();
      if (failure.retryAfter !== null) this.#pacer.pauseUntil(this.#now() + failure.retryAfter);
      if (retries >= this.#maxRetries) throw exhausted(failure, retries + 1, shown);
      retries++;
      const delay = failure.retryAfter ?? backoffDelay(retries, this.#random);
      this.#logger?.warning(
        `Retrying GET ${shown} in ${delay} ms (retry ${retries} of ${this.#maxRetries})`,
        { status: failure.status, reason: failure.detail },
      );
      retryDelay = delay;
    }
  }

  /** One HTTP attempt, body included, under the per-request timeout. */
  async #send(
    url: string,
    shown: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Attempt> {
    const controller = new AbortController();
    const timeoutMs = this.#timeoutMs;
    const timer = setTimeout(() => controller.abort(new TimeoutError(timeoutMs)), timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    const started = this.#now();
    this.#requestCount++;
    this.#onRequest?.();
    let status = 0;
    let rateLimitRemaining: number | null = null;
    try {
      const response = await this.#fetch(url, { headers, signal: controller.signal });
      status = response.status;
      const remaining = response.headers.get("x-ratelimit-remaining");
      rateLimitRemaining = remaining === null || remaining.trim() === "" || isNaN(Number(remaining))
        ? null
        : Number(remaining);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const end = this.#now();
      // Dates in these headers are on the server's clock: compare them with its Date header.
      const wait = rateLimitWait(
        remaining,
        response.headers.get("x-ratelimit-reset"),
        serverNow(response.headers, end),
      );
      if (wait !== null && wait > 0) {
        this.#logger?.fine(`Rate limit reached; waiting ${wait} ms before the next request`);
        this.#pacer.pauseUntil(end + wait);
      }
      // An error body may echo what we sent (the Basic header, the token): redact it before it
      // is cut into an excerpt, which could otherwise keep a piece of a secret.
      const ok = status >= 200 && status < 300;
      const secrets = this.#secrets;
      let text: string | null = null;
      return {
        status,
        headers: response.headers,
        bytes,
        get text() {
          return text ??= ok ? decodeBody(bytes) : secrets.redact(decodeBody(bytes));
        },
      };
    } catch (error) {
      status = 0;
      if (controller.signal.reason instanceof TimeoutError && !signal?.aborted) {
        throw controller.signal.reason;
      }
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      const ms = this.#now() - started;
      this.#logger?.fine(`GET ${shown}`, { status, ms });
      this.#onResponse?.({ method: "GET", url: shown, status, ms, rateLimitRemaining });
    }
  }
}
