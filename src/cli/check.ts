/**
 * `act-sync check`: authenticate and probe each table's endpoint (src/jobs/check.ts); exit 4
 * when Act! refused the login, with a SEVERE line in the log (file) as `--once` writes.
 *
 * @module
 */
import { refusedAdvice } from "../core/errors.ts";
import { configFromArgs, parseCommand } from "./_flags.ts";
import { type CliDeps, EXIT } from "./command.ts";

/** Run the check; the exit code (0 every probe passed, 1 failed, 4 login refused). */
export async function checkCommand(args: string[], deps: CliDeps): Promise<number> {
  const { config, logger } = await configFromArgs(parseCommand(args), deps);
  const { runCheck } = await import("../jobs/check.ts");
  const result = await runCheck(config, { stdout: deps.stdout, logger });
  if (result.refused) {
    logger.severe(
      `Check failed: ${result.loginError}${refusedAdvice(result.failure)} (exit code 4)`,
    );
    return EXIT.auth;
  }
  if (result.loginError) logger.severe(`Check failed: ${result.loginError}`);
  if (result.destinationError) {
    logger.severe(`Check failed: the destination: ${result.destinationError}`);
  }
  if (result.ok) {
    logger.info(
      `Check passed: the Act! login, ${config.tables.length} tables and the destination`,
    );
  } else if (!result.loginError && !result.destinationError) {
    logger.severe(`Check failed: a table's endpoint did not answer as expected (see above)`);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}
