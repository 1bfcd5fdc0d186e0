/**
 * The retry policy of the Act! client, written down once as data, and the pure functions that
 * turn it (and the server's `Retry-After` / `X-RateLimit-*` headers) into waits.
 *
 * @module
 */

/** When and how {@linkcode ActClient} retries a request. */
export const RETRY_POLICY = {
  /** Retries after the first attempt, unless the client is given `maxRetries`. */
  limit: 3,
  /** Statuses retried with backoff (429 and 503 honour `Retry-After`). */
  retryStatuses: [429, 500, 502, 503, 504],
  /** Statuses that fail at once; so does every other status not listed in `retryStatuses`. */
  fatalStatuses: [400, 403, 404],
  /** A data call answered with one of these renews the token once and repeats the call. */
  renewStatuses: [401],
  /** Statuses whose `Retry-After` header is honoured. */
  retryAfterStatuses: [429, 503],
  /** No response (timeout, dropped connection, body cut off mid-read) is retried like a 503. */
  retryNetworkErrors: true,
  /** A 2xx body that is not a JSON array or `{"value": [...]}` is retried (proxy hiccups). */
  retryUnusableBodies: true,
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
    const date = Date.parse(text);
    if (Number.isNaN(date)) return null;
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
    const date = Date.parse(text);
    if (!Number.isNaN(date)) ms = date - nowMs;
  }
  if (ms === null) ms = RETRY_POLICY.rateLimitDefaultWaitMs;
  return Math.round(Math.min(cap, Math.max(0, ms)));
}
