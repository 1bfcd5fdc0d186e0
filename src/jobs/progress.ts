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

/**
 * The terminal line of an event, without control characters:
 * `contacts  [#######.............]  35%  70,000 rows  12,500 rows/s`.
 */
export function formatProgressLine(event: ProgressEvent): string {
  const what = event.what ?? "rows";
  const count = `${event.rows.toLocaleString("en-US")} ${what}`;
  const rate = `${rowsPerSecond(event).toLocaleString("en-US")} ${what}/s`;
  if (event.total === undefined || event.total <= 0) return `${event.table}  ${count}  ${rate}`;
  const fraction = Math.min(1, event.rows / event.total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${event.table}  ${bar} ${percent}  ${count} of ${
    event.total.toLocaleString("en-US")
  }  ${rate}`;
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
      logger?.info(
        `Table ${event.table}: ${event.rows.toLocaleString("en-US")} ${
          event.what ?? "rows"
        } so far`,
        {
          [event.what ?? "rows"]: event.rows,
          per_second: rowsPerSecond(event),
          seconds: Math.round(event.elapsedMs / 100) / 10,
          ...(event.total !== undefined ? { total: event.total } : {}),
        },
      );
    },
    done: () => {
      started = output.now();
    },
  };
}
