/**
 * The retry policy of the Act! client, written down once as data, and the pure functions that
 * turn it (and the server's `Retry-After` / `X-RateLimit-*` headers) into waits.
 *
 * @module
 */
import { parseHttpDate } from "../core/time.ts";

/** When and how {@linkcode ActClient} retries a request. */
export const RETRY_POLICY = {
  /** Retries after the first attempt, unless the client is given `maxRetries`. */
  limit: 3,
  /**
   * Statuses retried with backoff (429 and 503 honour `Retry-After`); every other non-2xx status
   * fails at once. No response (timeout, dropped connection, a body cut off mid-read) and a 2xx
   * body that cannot be read are retried like a 503.
   */
  retryStatuses: [429, 500, 502, 503, 504],
  /** A data call answered with one of these renews the token once and repeats the call. */
  renewStatuses: [401],
  /** Statuses whose `Retry-After` header is honoured. */
  retryAfterStatuses: [429, 503],
  /** Exponential backoff: `min(capMs, baseMs * factor ** (retry - 1))`, minus up to `jitter` of it. */
  backoff: { baseMs: 1_000, factor: 2, capMs: 30_000, jitter: 0.5 },
  /** Longest wait taken from a `Retry-After` header. */
  retryAfterCapMs: 300_000,
  /** Longest wait taken from `X-RateLimit-Reset` when `X-RateLimit-Remaining` is 0. */
  rateLimitResetCapMs: 65_000,
  /** Wait used when `X-RateLimit-Remaining` is 0 and no usable `X-RateLimit-Reset` came. */
  rateLimitDefaultWaitMs: 1_000,
} as const;

/**
 * Act! error codes that no retry cures, each with what the user must do about it: the run ends
 * at the first one (see {@linkcode actRefusal}).
 */
export const ACT_REFUSALS = {
  4031: {
    what: "no subscription",
    advice: "the Act! database has no active subscription that includes the Web API: " +
      "renew or extend the Act! subscription (Act! Premium Cloud: the account's subscription " +
      "page; on premises: the Act! license), then run again",
  },
  4032: {
    what: "no API permission",
    advice: "the Act! user in 'username' lacks the \"Web API Access\" permission: " +
      "an Act! administrator grants it to that user (or set 'username' to a user who has it), " +
      "then run again",
  },
} as const;

/** A code of {@linkcode ACT_REFUSALS}. */
export type ActRefusalCode = keyof typeof ACT_REFUSALS;

/**
 * The Act! refusal code (4031, 4032) in an error body, or null: a `code`/`errorCode` property
 * of a JSON body (number or text, any case of the key), else the number as a word in the body.
 */
export function actRefusal(text: string): ActRefusalCode | null {
  const known = (value: unknown): ActRefusalCode | null => {
    const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
    return n === 4031 || n === 4032 ? n : null;
  };
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      const data = JSON.parse(trimmed);
      if (typeof data === "object" && data !== null) {
        for (const [key, value] of Object.entries(data)) {
          if (/^(?:error_?)?code$/i.test(key) && known(value) !== null) return known(value);
        }
      }
    } catch {
      // not JSON: the text itself
    }
  }
  const m = /(?<![\w.])(4031|4032)(?![\w.])/.exec(trimmed);
  return m ? known(m[1]) : null;
}

/**
 * The backoff before retry number `retry` (1 for the first retry), with jitter from `random`.
 *
 * @example
 * ```ts
 * backoffDelay(1, () => 1); // 1000
 * backoffDelay(3, () => 1); // 4000
 * ```
 */
export function backoffDelay(retry: number, random: () => number = Math.random): number {
  const { baseMs, factor, capMs, jitter } = RETRY_POLICY.backoff;
  const full = Math.min(capMs, baseMs * factor ** Math.max(0, retry - 1));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(full * (1 - jitter) + full * jitter * r);
}

/**
 * The wait in ms asked by a `Retry-After` header (delay in seconds or an HTTP date), capped;
 * null when the header is absent or unusable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (text === "") return null;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    const date = parseHttpDate(text);
    if (date === null) return null;
    ms = date - nowMs;
  }
  return Math.round(Math.min(RETRY_POLICY.retryAfterCapMs, Math.max(0, ms)));
}

/**
 * The wait in ms before the next request when `X-RateLimit-Remaining` says no call is left;
 * null when calls remain (or the header is absent).
 *
 * `X-RateLimit-Reset` is read as seconds until the reset when small, as a Unix time in seconds
 * (or ms) when it looks like one, or as an HTTP date; the wait is capped.
 */
export function rateLimitWait(
  remaining: string | null,
  reset: string | null,
  nowMs: number,
): number | null {
  if (remaining === null || remaining.trim() === "") return null;
  const left = Number(remaining.trim());
  if (!Number.isFinite(left) || left > 0) return null;
  const cap = RETRY_POLICY.rateLimitResetCapMs;
  const text = reset?.trim() ?? "";
  let ms: number | null = null;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    if (n >= 1e12) ms = n - nowMs; // Unix time in ms
    else if (n >= 1e9) ms = n * 1000 - nowMs; // Unix time in seconds
    else ms = n * 1000; // seconds from now
  } else if (text !== "") {
    const date = parseHttpDate(text);
    if (date !== null) ms = date - nowMs;
  }
  if (ms === null) ms = RETRY_POLICY.rateLimitDefaultWaitMs;
  return Math.round(Math.min(cap, Math.max(0, ms)));
}
