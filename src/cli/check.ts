/**
 * `act-sync check`: authenticate and probe each table's endpoint (src/jobs/check.ts).
 *
 * @module
 */
import { configFromArgs, parseCommand } from "./_flags.ts";
import type { CliDeps } from "./mod.ts";

/** Run the check; true when every probe passed. */
export async function checkCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const { config, logger } = await configFromArgs(parseCommand(args), deps);
  const { runCheck } = await import("../jobs/check.ts");
  return await runCheck(config, { stdout: deps.stdout, logger });
}
