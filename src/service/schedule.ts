/**
 * The service's clock: a thin croner wrapper that never overlaps runs (`protect: true`), reports
 * skipped ticks, and catches errors thrown by the task so that one bad run never stops the
 * schedule.
 *
 * @example
 * ```ts
 * import { startSchedule } from "./schedule.ts";
 * const schedule = startSchedule("*\/15 * * * *", () => console.log("sync"), {
 *   onSkip: () => console.warn("tick skipped: a run is in progress"),
 * });
 * console.log(schedule.nextRun(), schedule.intervalMs);
 * schedule.stop();
 * ```
 *
 * @module
 */
import { Cron } from "croner";

/** Options for {@linkcode startSchedule}. */
export interface ScheduleOptions {
  /** Called when a tick comes while the previous task is still running (the tick is skipped). */
  onSkip?: (at: Date) => void;
  /** Called with anything the task throws or rejects with; the schedule goes on. */
  onError?: (error: unknown) => void;
  /** IANA time zone of the pattern. @default {the host's time zone} */
  timezone?: string;
}

/** A running schedule. */
export interface Schedule {
  /** The next tick, or null when there is none (stopped, or the pattern has no future time). */
  nextRun(): Date | null;
  /** The longest gap between two of the next few ticks, in ms: one "schedule interval". */
  readonly intervalMs: number;
  /** Whether the task started by a tick is still running. */
  isBusy(): boolean;
  /** Stop ticking; a task already running goes on. */
  stop(): void;
}

/**
 * Run `task` on every tick of the cron `pattern` (5 fields, or 6 with seconds first). A tick while
 * the previous task still runs is skipped and reported through `onSkip`.
 */
export function startSchedule(
  pattern: string,
  task: () => unknown,
  options: ScheduleOptions = {},
): Schedule {
  const job = new Cron(
    pattern,
    {
      protect: (self) => options.onSkip?.(self.currentRun() ?? new Date()),
      catch: (error) => options.onError?.(error),
      ...(options.timezone ? { timezone: options.timezone } : {}),
    },
    async () => {
      await task();
    },
  );
  return {
    nextRun: () => job.nextRun(),
    intervalMs: scheduleIntervalMs(pattern, { timezone: options.timezone }),
    isBusy: () => job.isBusy(),
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
