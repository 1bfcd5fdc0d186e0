/**
 * Progress of a run (a sync or a reconcile), table by table. On a terminal: one live line per
 * table, rewritten in place (rows so far, rows/s, a bar when the total is known). In a log (not
 * a terminal): an INFO line per table at most every 10 s, so a long first sync or reconcile is
 * never silent for long and a log file does not fill up. {@linkcode sharedTerminal} lets the live
 * line and log lines share one terminal: a log line clears the live line, then it is redrawn.
 *
 * @module
 */
import type { Logger } from "../core/log.ts";
import type { ProgressEvent } from "../sync/engine.ts";

/** How often a log gets a progress line at most, in ms. */
export const LOG_PROGRESS_INTERVAL_MS = 10_000;
/** How often the terminal line is redrawn at most, in ms. */
const TTY_INTERVAL_MS = 250;
const BAR_WIDTH = 20;

/** Rows per second of an event (0 before any time passed). */
export function rowsPerSecond(event: ProgressEvent): number {
  return event.elapsedMs > 0 ? Math.round(event.rows / (event.elapsedMs / 1000)) : 0;
}

/** How far an event is, `done` of `total`, when its total is known: line items count parents. */
function doneOfTotal(event: ProgressEvent): { done: number; total: number; what: string } | null {
  const p = event.parents;
  if (p) return p.total && p.total > 0 ? { done: p.done, total: p.total, what: p.table } : null;
  if (event.total === undefined || event.total <= 0) return null;
  return { done: event.rows, total: event.total, what: event.what ?? "rows" };
}

/**
 * The time left at the pace so far, for people: `about 40 s left`, `about 12 min left`,
 * `about 2 h 5 min left`; null before anything is done (no pace yet) or once all is done.
 */
export function timeLeft(done: number, total: number, elapsedMs: number): string | null {
  if (!(done > 0) || !(elapsedMs > 0) || done >= total) return null;
  const seconds = Math.max(1, Math.round(((total - done) * elapsedMs) / done / 1000));
  if (seconds < 60) return `about ${seconds} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

/** Seconds left at the pace so far (the log's `seconds_left`), or undefined. */
function secondsLeft(done: number, total: number, elapsedMs: number): number | undefined {
  if (!(done > 0) || !(elapsedMs > 0) || done >= total) return undefined;
  return Math.round(((total - done) * elapsedMs) / done / 1000);
}

/**
 * The terminal line of an event, without control characters:
 * `contacts  [#######.............]  35%  70,000 rows of 200,000  12,500 rows/s  about 10 s left`;
 * a table read per parent counts its parents: `opportunity_products  [##..]  10%  200 of 2,000
 * opportunities  1,234 rows  60 rows/s  about 3 min left`.
 */
export function formatProgressLine(event: ProgressEvent): string {
  const what = event.what ?? "rows";
  const count = `${event.rows.toLocaleString("en-US")} ${what}`;
  const rate = `${rowsPerSecond(event).toLocaleString("en-US")} ${what}/s`;
  const of = doneOfTotal(event);
  const p = event.parents;
  if (!of) {
    const parents = p ? `${p.done.toLocaleString("en-US")} ${p.table}  ` : "";
    return `${event.table}  ${parents}${count}  ${rate}`;
  }
  const fraction = Math.min(1, of.done / of.total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const left = timeLeft(of.done, of.total, event.elapsedMs);
  const done = p
    ? `${p.done.toLocaleString("en-US")} of ${
      of.total.toLocaleString("en-US")
    } ${p.table}  ${count}`
    : `${count} of ${of.total.toLocaleString("en-US")}`;
  return `${event.table}  ${bar} ${percent}  ${done}  ${rate}${left ? `  ${left}` : ""}`;
}

/**
 * The log line of an event: `Table contacts: 70,000 rows so far`; with a known total
 * `Table contacts: 70,000 of 200,000 ids, about 10 s left`; a table read per parent
 * `Table opportunity_products: 200 of 2,000 opportunities done (1,234 rows so far), about 3 min
 * left`.
 */
export function formatProgressLog(event: ProgressEvent): string {
  const what = event.what ?? "rows";
  const rows = event.rows.toLocaleString("en-US");
  const of = doneOfTotal(event);
  const left = of ? timeLeft(of.done, of.total, event.elapsedMs) : null;
  const tail = left ? `, ${left}` : "";
  const p = event.parents;
  if (p) {
    const total = of ? ` of ${of.total.toLocaleString("en-US")}` : "";
    return `Table ${event.table}: ${
      p.done.toLocaleString("en-US")
    }${total} ${p.table} done (${rows} ${what} so far)${tail}`;
  }
  if (of) {
    return `Table ${event.table}: ${rows} of ${of.total.toLocaleString("en-US")} ${what}${tail}`;
  }
  return `Table ${event.table}: ${rows} ${what} so far`;
}

/** Erases the terminal line the cursor is on and returns to its start. */
const CLEAR_LINE = "\r\x1b[K";

/**
 * A writer for a terminal (stderr) shared by the live progress line and ordinary lines (logs,
 * messages). The live line is what {@linkcode progressReporter} writes: a text starting with
 * `\r` redraws it, one starting with `\n` ends it (keeps it on screen) and starts the next, a
 * lone `\n` ends it. Any other text is an ordinary line: while a live line is showing, it is
 * erased first (`\r\x1b[K`) and redrawn below once the text has ended its line, so a log line
 * never runs into a progress line. Used only for a terminal: files and pipes get lines as they are.
 */
export function sharedTerminal(write: (text: string) => void): (text: string) => void {
  let live = ""; // the live line now showing (its text after "\r"), "" when none
  return (text) => {
    if (text.startsWith("\r") || (live && text.startsWith("\n"))) {
      write(text);
      live = text.slice(text.lastIndexOf("\n") + 1).replace(/^\r/, "");
      return;
    }
    if (!live) return write(text);
    write(CLEAR_LINE + text);
    if (text.endsWith("\n")) write(`\r${live}`);
    else live = "";
  };
}

/** Where progress goes. */
export interface ProgressOutput {
  /**
   * A terminal (stderr): the line is rewritten in place; a new table starts a new line. Log
   * lines written to the same terminal go through the same {@linkcode sharedTerminal}.
   */
  tty?: (text: string) => void;
  /** Otherwise the log: INFO lines, one per {@linkcode LOG_PROGRESS_INTERVAL_MS} at most. */
  logger?: Logger;
  now: () => number;
}

/** A progress sink for one run; call `done()` at the end (ends the terminal line). */
export function progressReporter(
  output: ProgressOutput,
): { report: (event: ProgressEvent) => void; done: () => void } {
  let last = -Infinity;
  let table: string | null = null;
  let pending = false;
  if (output.tty) {
    const write = output.tty;
    return {
      report: (event) => {
        const t = output.now();
        const newTable = table !== null && table !== event.table;
        if (!newTable && t - last < TTY_INTERVAL_MS) return;
        last = t;
        write(`${newTable ? "\n" : "\r"}${formatProgressLine(event)}\x1b[K`);
        table = event.table;
        pending = true;
      },
      done: () => {
        if (pending) write("\n");
        pending = false;
      },
    };
  }
  const logger = output.logger;
  let started = output.now();
  return {
    report: (event) => {
      const t = output.now();
      // The first line comes 10 s into the run, not at its first page: short runs stay quiet.
      if (t - Math.max(last, started) < LOG_PROGRESS_INTERVAL_MS) return;
      last = t;
      const of = doneOfTotal(event);
      const left = of ? secondsLeft(of.done, of.total, event.elapsedMs) : undefined;
      logger?.info(formatProgressLog(event), {
        [event.what ?? "rows"]: event.rows,
        per_second: rowsPerSecond(event),
        seconds: Math.round(event.elapsedMs / 100) / 10,
        ...(event.total !== undefined ? { total: event.total } : {}),
        ...(event.parents ? { [event.parents.table]: event.parents.done } : {}),
        ...(event.parents?.total !== undefined ? { total: event.parents.total } : {}),
        ...(left !== undefined ? { seconds_left: left } : {}),
      });
    },
    done: () => {
      started = output.now();
    },
  };
}
