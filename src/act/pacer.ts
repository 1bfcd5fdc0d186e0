/**
 * The pace of requests to one Act! server: how many are in flight at once, how soon each
 * connection may start the next one, and how the client backs off when the server asks it to.
 *
 * - At most `maxParallel` requests are in flight (`max_parallel_requests`); each holds one of
 *   that many *connections* while it runs.
 * - A connection starts a request at least `intervalMs` after its previous start
 *   (`rate_limit_pause`): the latency of the previous request and the caller's work count
 *   towards it. With one connection this is one request at a time, a pause between starts.
 * - {@linkcode Pacer.pauseUntil}: no request starts before that time, on any connection
 *   (`X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`; `Retry-After` of a 429 or 503).
 * - {@linkcode Pacer.throttle} (a 429 or 503): one request in flight from then on; the limit
 *   climbs back by one every {@linkcode PacerOptions.recoveryMs} without another throttle.
 *
 * Every wait ends at once when the caller's signal aborts. Clock and sleep are injected.
 *
 * @module
 */

/** Options for {@linkcode Pacer}. */
export interface PacerOptions {
  /** Requests in flight at most (connections). @default {1} */
  maxParallel?: number;
  /** Least time between two request starts on one connection, ms. @default {0} */
  intervalMs?: number;
  /** Clock in ms. @default {Date.now} */
  now?: () => number;
  /** Sleep in ms. @default {setTimeout-based} */
  sleep?: (ms: number) => Promise<void>;
  /** After a throttle, the limit grows by one per this many ms. @default {10000} */
  recoveryMs?: number;
}

/** A connection held by one request; {@linkcode Slot.release} it when the request is done. */
export interface Slot {
  /** The connection, 0 to `maxParallel - 1`. */
  readonly connection: number;
  /** Requests in flight when this one started, itself included. */
  readonly inFlight: number;

  /** Give the connection back (once; later calls do nothing). */
  release(): void;
}

/** Paces the requests of one client (see the module comment). */
export class Pacer {
  readonly maxParallel: number;
  #intervalMs: number;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;
  #recoveryMs: number;
  /** Per connection, the time its last request started (null: never). */
  #starts: (number | null)[];
  #free: number[];
  #inFlight = 0;
  #waiters: (() => void)[] = [];
  #notBefore = 0;
  /** When the last throttle happened (null: never). */
  #throttledAt: number | null = null;

  constructor(options: PacerOptions = {}) {
    this.maxParallel = Math.max(1, Math.floor(options.maxParallel ?? 1));
    this.#intervalMs = Math.max(0, options.intervalMs ?? 0);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#recoveryMs = Math.max(1, options.recoveryMs ?? 10_000);
    this.#starts = Array.from({ length: this.maxParallel }, () => null);
    this.#free = Array.from({ length: this.maxParallel }, (_, i) => i);
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** How many requests may be in flight now (lower than `maxParallel` after a throttle). */
  get limit(): number {
    if (this.#throttledAt === null) return this.maxParallel;
    const steps = Math.floor((this.#now() - this.#throttledAt) / this.#recoveryMs);
    if (1 + steps >= this.maxParallel) {
      this.#throttledAt = null;
      return this.maxParallel;
    }
    return 1 + steps;
  }

  /**
   * Wait for a connection under the current limit, then until that connection's interval has
   * passed, any pause has ended and `delayMs` more (e.g. a retry's backoff) have passed; the
   * request starts when this resolves.
   */
  async acquire(signal?: AbortSignal, delayMs = 0): Promise<Slot> {
    signal?.throwIfAborted();
    while (this.#inFlight >= this.limit || this.#free.length === 0) {
      await this.#waitForRelease(signal);
    }
    this.#inFlight++;
    // The free connection that may start soonest (one never used first).
    this.#free.sort((a, b) => (this.#starts[a] ?? -1) - (this.#starts[b] ?? -1));
    const connection = this.#free.shift()!;
    let released = false;
    const slot: Slot = {
      connection,
      inFlight: this.#inFlight,
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
        this.#free.push(connection);
        this.#wake();
      },
    };
    const earliest = delayMs > 0 ? this.#now() + delayMs : 0;
    try {
      // One sleep, unless a pause was set meanwhile (another request got a 429).
      for (let at = -Infinity; at < this.#notBefore;) {
        const last = this.#starts[connection];
        at = Math.max(earliest, this.#notBefore, last === null ? 0 : last + this.#intervalMs);
        const wait = at - this.#now();
        if (wait > 0) await this.#sleepFor(wait, signal);
      }
    } catch (error) {
      slot.release();
      throw error;
    }
    this.#starts[connection] = this.#now();
    return slot;
  }

  /** No request starts before `time` (ms), on any connection. */
  pauseUntil(time: number): void {
    this.#notBefore = Math.max(this.#notBefore, time);
  }

  /** The server pushed back (429, 503): one request in flight, then climb back gradually. */
  throttle(): void {
    this.#throttledAt = this.#now();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Wait until a request ends (or the signal aborts). A throttled limit grows with time alone,
   * and is checked again at every end: while the limit holds a request back, one is in flight.
   */
  async #waitForRelease(signal?: AbortSignal): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push(resolve);
    try {
      await this.#race([promise], signal);
    } finally {
      const i = this.#waiters.indexOf(resolve);
      if (i >= 0) this.#waiters.splice(i, 1);
    }
  }

  async #sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
    await this.#race([this.#sleep(ms)], signal);
  }

  async #race(promises: Promise<void>[], signal?: AbortSignal): Promise<void> {
    if (!signal) return await Promise.race(promises);
    signal.throwIfAborted();
    const { promise, reject } = Promise.withResolvers<never>();
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await Promise.race([...promises, promise]);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}
