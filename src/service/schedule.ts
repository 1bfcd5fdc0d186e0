/**
 * The service's clock: a thin croner wrapper that never starts a task while the previous one
 * still runs (`protect: true`; the service's runner, src/service/runner.ts, is what reports
 * skipped runs), and catches errors thrown by the task so that one bad run never stops the
 * schedule.
 *
 * @example
 * ```ts
 * import { startSchedule } from "./schedule.ts";
 * const schedule = startSchedule("*\/15 * * * *", () => console.log("sync"));
 * console.log(schedule.nextRun());
 * schedule.stop();
 * ```
 *
 * @module
 */
import { Cron } from "croner";
import { formatLocalForDisplay, formatUtcForDisplay, localTimeZone } from "../core/time.ts";

/** Options for {@linkcode startSchedule}. */
export interface ScheduleOptions {
  /** Called with anything the task throws or rejects with; the schedule goes on. */
  onError?: (error: unknown) => void;
  /** IANA time zone of the pattern. @default {the host's time zone} */
  timezone?: string;
}

/** A running schedule. */
export interface Schedule {
  /** The next tick, or null when there is none (stopped, or the pattern has no future time). */
  nextRun(): Date | null;
  /** Stop ticking; a task already running goes on. */
  stop(): void;
}

/**
 * Run `task` on every tick of the cron `pattern` (5 fields, or 6 with seconds first). A tick while
 * the previous task still runs is skipped.
 */
export function startSchedule(
  pattern: string,
  task: () => unknown,
  options: ScheduleOptions = {},
): Schedule {
  const job = new Cron(
    pattern,
    {
      protect: true,
      catch: (error) => options.onError?.(error),
      ...(options.timezone ? { timezone: options.timezone } : {}),
    },
    async () => {
      await task();
    },
  );
  return {
    nextRun: () => job.nextRun(),
    stop: () => job.stop(),
  };
}

/**
 * The longest gap between consecutive ticks among the next `count` ticks of `pattern`, in ms
 * (15 minutes for `"*\/15 * * * *"`). Used to decide when the service is stale.
 *
 * @throws {TypeError} when the pattern is not valid cron, or never ticks again.
 */
export function scheduleIntervalMs(
  pattern: string,
  options: { from?: Date; count?: number; timezone?: string } = {},
): number {
  const job = new Cron(pattern, {
    paused: true,
    ...(options.timezone ? { timezone: options.timezone } : {}),
  });
  try {
    const runs = job.nextRuns(Math.max(2, options.count ?? 8), options.from);
    if (runs.length < 2) {
      throw new TypeError(`Cannot schedule "${pattern}": it has fewer than two future ticks`);
    }
    let gap = 0;
    for (let i = 1; i < runs.length; i++) {
      gap = Math.max(gap, runs[i].getTime() - runs[i - 1].getTime());
    }
    return gap;
  } finally {
    job.stop();
  }
}

/**
 * The service's "next run" log line: each next tick in UTC and in local time, and which time zone
 * the cron patterns run in, e.g. `Next run 2026-12-07 12:15:00 UTC (2026-12-07 13:15 local time,
 * Europe/Berlin, UTC+01:00); next reconcile …: 'schedule' and 'reconcile_schedule' run in this
 * machine's local time (Europe/Berlin); every time in the log is UTC`.
 */
export function nextRunMessage(next: Date | null, nextReconcile: Date | null): string {
  const when = (date: Date | null) =>
    date
      ? `${formatUtcForDisplay(date.getTime())} (${formatLocalForDisplay(date.getTime())})`
      : "none (the pattern has no future time)";
  return `Next run ${when(next)}; next reconcile ${when(nextReconcile)}: 'schedule' and ` +
    `'reconcile_schedule' run in this machine's local time (${localTimeZone()}); ` +
    `every time in the log is UTC`;
}
