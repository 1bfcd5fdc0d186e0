/**
 * The Act! Web API client: one request path with the token (get, reuse, renew once on 401),
 * retries with backoff and `Retry-After`, rate-limit pauses, timeouts, and strict body parsing.
 *
 * @example
 * ```ts
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
import { AuthError, errorMessage, HttpError } from "../core/errors.ts";
import { connectionProblem, errorCode } from "./connection.ts";
import type { Logger } from "../core/log.ts";
import { Secrets } from "../core/secrets.ts";
import { joinUrl, type OdataQuery, redactUrl } from "./odata.ts";
import {
  decodeBody,
  errorExcerpt,
  excerpt,
  type LazyRows,
  parseListBytes,
  parseToken,
  splitListBytes,
  UnusableBodyError,
} from "./body.ts";
import { backoffDelay, parseRetryAfter, rateLimitWait, RETRY_POLICY } from "./retry.ts";
import { createFetch } from "./tls.ts";
import { Pacer, type Slot } from "./pacer.ts";

export type { OdataQuery };

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

/** Most extra token renewals of one call (see {@linkcode ActClient}'s 401 handling). */
const MAX_TOKEN_RACES = 16;

/** The start of the message thrown when `/authorize` refuses the credentials. */
export const AUTH_FAILED_MESSAGE =
  "Failed to authenticate: check username, password and database name";

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no response within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

interface Attempt {
  status: number;
  headers: Headers;
  /** The body as received (list pages are parsed from it: see `parseListBytes`). */
  bytes: Uint8Array;
  /** The body as text, decoded when first asked for; redacted unless the status is 2xx. */
  readonly text: string;
}

type Parse<T> = (attempt: Attempt) => T;

/** The server's clock at the response (its `Date` header), else the host's. */
function serverNow(headers: Headers, hostNow: number): number {
  const date = Date.parse(headers.get("date") ?? "");
  return Number.isNaN(date) ? hostNow : date;
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
  #token: string | null = null;
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
    this.#fetch = options.fetch ?? createFetch({ logger: options.logger });
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
    this.#secrets = options.secrets ?? options.logger?.secrets ?? new Secrets();
    this.#secrets.addCredentials(options.username, options.password);
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
          `Cannot read /api/system response: invalid JSON: got "${excerpt(attempt.text, 200)}"`,
          { cause: error },
        );
      }
      if (typeof data !== "object" || data === null || Array.isArray(data)) {
        throw new UnusableBodyError(
          `Cannot read /api/system response: expected an object: got "${
            excerpt(attempt.text, 200)
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
      const parsed = date ? Date.parse(date) : NaN;
      const serverDate = Number.isNaN(parsed) ? null : parsed;
      const split = splitListBytes(attempt.bytes, contentType);
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
      const { rows, envelope } = parseListBytes(attempt.bytes, contentType, split);
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

  async #call<T>(
    url: string,
    options: { auth: boolean; authorize?: boolean; signal?: AbortSignal },
    parse: Parse<T>,
  ): Promise<T> {
    const { signal } = options;
    const shown = redactUrl(url);
    let retries = 0;
    let renewed = false;
    /** Renewals after the first, each for a 401 on a token other requests used too. */
    let races = 0;
    let retryDelay = 0;
    for (;;) {
      signal?.throwIfAborted();
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
      let attempt: Attempt | null = null;
      let failure: { status: number; detail: string; retryAfter: number | null; cause?: unknown };
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
        attempt = await this.#send(url, shown, headers, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        failure = {
          status: 0,
          detail: errorMessage(error, { cause: true }),
          retryAfter: null,
          cause: error,
        };
        const problem = connectionProblem(failure.detail, errorCode(error));
        if (problem.unresolved) {
          throw new HttpError(0, "GET", shown, failure.detail, {
            message: `GET ${shown} failed: ${failure.detail}: ${problem.hint}`,
            cause: error,
          });
        }
      } finally {
        slot?.release();
      }
      retryDelay = 0;
      if (attempt) {
        const { status } = attempt;
        if (status >= 200 && status < 300) {
          try {
            return parse(attempt);
          } catch (error) {
            if (!(error instanceof UnusableBodyError)) throw error;
            failure = { status, detail: error.message, retryAfter: null, cause: error };
          }
        } else if (
          options.authorize &&
          (status === 400 || status === 401 || status === 403 || /\b4032\b/.test(attempt.text))
        ) {
          const detail = errorExcerpt(attempt.text);
          throw new AuthError(status, "GET", shown, detail, {
            message: `${AUTH_FAILED_MESSAGE}: GET ${shown} answered ${status}${
              detail ? `: ${detail}` : ""
            }${
              status === 403
                ? " (or the account lacks Web API access, or the server refuses this address)"
                : ""
            }`,
          });
        } else if (
          options.auth && (RETRY_POLICY.renewStatuses as readonly number[]).includes(status)
        ) {
          // A token renewed meanwhile, or used by other requests too (a server that expires
          // tokens after a few requests), is no proof of refused access: one request at a time
          // from then on, and a new token.
          const raced = token !== this.#token || this.#tokenUses > 1;
          if (!renewed || (raced && races < MAX_TOKEN_RACES)) {
            if (renewed) races++;
            if (renewed) this.#pacer.throttle();
            renewed = true;
            this.#logger?.fine("Token refused; authenticating again", { url: shown, status });
            await this.#authorize(token, signal);
            continue;
          }
          const detail = errorExcerpt(attempt.text);
          throw new HttpError(status, "GET", shown, detail, {
            message: `GET ${shown} failed with status ${status} right after renewing the token${
              detail ? `: ${detail}` : ""
            }`,
          });
        } else if ((RETRY_POLICY.retryStatuses as readonly number[]).includes(status)) {
          const retryAfter = (RETRY_POLICY.retryAfterStatuses as readonly number[]).includes(status)
            ? parseRetryAfter(
              attempt.headers.get("retry-after"),
              serverNow(attempt.headers, this.#now()),
            )
            : null;
          failure = { status, detail: errorExcerpt(attempt.text), retryAfter };
          if (status === 429 || status === 503) this.#pacer.throttle();
          if (retryAfter !== null) this.#pacer.pauseUntil(this.#now() + retryAfter);
        } else {
          throw new HttpError(status, "GET", shown, errorExcerpt(attempt.text));
        }
      }
      failure = failure!;
      if (retries >= this.#maxRetries) {
        const tries = `${retries + 1} attempt${retries ? "s" : ""}`;
        const what = failure.status === 0
          ? "failed with no response"
          : failure.cause instanceof UnusableBodyError
          ? `returned an unusable body (status ${failure.status})`
          : `failed with status ${failure.status}`;
        const hint = failure.status === 0
          ? connectionProblem(failure.detail, errorCode(failure.cause)).hint
          : "";
        throw new HttpError(failure.status, "GET", shown, failure.detail, {
          message: `GET ${shown} ${what} after ${tries}${
            failure.detail ? `: ${failure.detail}` : ""
          }${hint ? `: ${hint}` : ""}`,
          cause: failure.cause,
        });
      }
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
