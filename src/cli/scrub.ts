/**
 * `act-sync scrub`: remove or hash values already stored for `exclude_fields` and `hash_fields`
 * (src/jobs/scrub.ts). Exit 0 done, 1 failed, 3 another run holds the lock.
 *
 * @module
 */
import { configFromArgs, parseCommand } from "./_flags.ts";
import type { CliDeps } from "./command.ts";

/** Run the scrub; true when it succeeded. */
export async function scrubCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const { config, logger } = await configFromArgs(parseCommand(args), deps, { offline: true });
  const { runScrub } = await import("../jobs/scrub.ts");
  return (await runScrub(config, { logger, stdout: deps.stdout })).ok;
}
