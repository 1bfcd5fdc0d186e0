/**
 * `act-sync --once`: one sync of every configured table, then exit (Ctrl+C finishes the page
 * being written and stops).
 *
 * @module
 */
import { onStopSignal } from "../core/runtime.ts";
import { formatSummary, runSync } from "../jobs/sync.ts";
import { type CommonArgs, configFromArgs } from "./_flags.ts";
import type { CliDeps } from "./mod.ts";

/** The flags of the default command (`--once` and service mode) beyond the config-key ones. */
export const RUN_FLAGS = {
  once: { type: "boolean" },
  "full-refresh": { type: "boolean" },
} as const;

/** Run one sync; true when every table synced. */
export async function runOnce(parsed: CommonArgs, deps: CliDeps): Promise<boolean> {
  const { config, logger } = await configFromArgs(parsed, deps);
  const controller = new AbortController();
  const stop = onStopSignal(() => {
    logger.warning("Stop requested: finishing the page being written");
    controller.abort();
  });
  try {
    const run = await runSync(config, { fullRefresh: parsed.values["full-refresh"] === true }, {
      logger,
      stdout: deps.stdout,
      progress: deps.isTty ? deps.stderr : undefined,
      signal: controller.signal,
    });
    deps.stdout(formatSummary(run));
    return run.ok;
  } finally {
    stop();
  }
}
