/**
 * `act-sync` without a command: service mode (src/service) until SIGINT/SIGTERM.
 *
 * @module
 */
import { type CommonArgs, configFromArgs } from "./_flags.ts";
import type { CliDeps } from "./command.ts";

/** Run the service; true when it stopped cleanly. */
export async function runServe(parsed: CommonArgs, deps: CliDeps): Promise<boolean> {
  const { config, logger } = await configFromArgs(parsed, deps);
  const { runService } = await import("../service/mod.ts");
  return await runService(config, { logger, stdout: deps.stdout, stderr: deps.stderr }) === 0;
}
