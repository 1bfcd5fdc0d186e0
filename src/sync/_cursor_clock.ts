/**
 * Private to `src/sync`: where a table's cursor may move in a run (the rules of "the cursor
 * comes from the data, never from a clock" in `engine.ts`): the largest cursor value read,
 * capped by the server's and this host's clocks.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import { formatUtc } from "../core/time.ts";

const SECOND = 1000;

/** The cursor values read in one table's run, and the clocks that bound the cursor. */
export class CursorClock {
  #table: string;
  #now: () => number;
  #logger: Logger;
  /** The largest cursor value read in this run (null: no row read). */
  #maxRead: number | null = null;

  constructor(table: string, now: () => number, logger: Logger) {
    this.#table = table;
    this.#now = now;
    this.#logger = logger;
  }

  /** Note a cursor value read (only values of rows actually read and checked). */
  noteRead(value: number): void {
    if (this.#maxRead === null || value > this.#maxRead) this.#maxRead = value;
  }

  /**
   * The most the cursor may move to in this run: the server's clock (the `Date` header of the
   * window's first response), or this host's when that is earlier or missing. It only keeps a
   * row stamped in the future (a client's wrong clock) from dragging the cursor past rows not yet
   * written; a `Date` header far off can make it lower, which costs re-reads, never rows.
   */
  cap(serverDate: number | null): number {
    const host = this.#now();
    return serverDate === null ? host : Math.min(serverDate, host);
  }

  /**
   * The cursor after a completed read: the largest cursor value actually read, never above
   * `cap`; null (the cursor stays where it was) when no row was read.
   */
  after(cap: number): string | null {
    return this.#maxRead === null ? null : formatUtc(Math.min(this.#maxRead, cap));
  }

  /**
   * A stored cursor, but never after this host's clock: a cursor in the future (written by an
   * older act-sync from a wrong `Date` header) would hide every later edit, so the read starts
   * at the host's now instead (re-reading more, never less).
   */
  notAfterNow(cursor: number): number {
    const now = this.#now();
    if (cursor <= now) return cursor;
    if (cursor - now > 120 * SECOND) {
      this.#logger.warning(
        `Table ${this.#table}: the cursor ${formatUtc(cursor)} is in the future; ` +
          `reading from this host's clock instead`,
      );
    }
    return now;
  }

  /** Warn when the server's clock is more than two minutes off this host's. */
  warnSkew(serverDate: number | null): void {
    if (serverDate === null) return;
    const skew = serverDate - this.#now();
    if (Math.abs(skew) > 120 * SECOND) {
      this.#logger.warning(
        `The Act! server's clock differs from this host's by ${Math.round(skew / 1000)} s; ` +
          `act-sync follows the server's clock`,
      );
    }
  }
}
