/**
 * `act-sync state`: print the state file.
 *
 * @module
 */
import { readState } from "../state/mod.ts";
import { configFromArgs, parseCommand } from "./_flags.ts";
import type { CliDeps } from "./mod.ts";

/** Print the state file as JSON. */
export async function stateCommand(args: string[], deps: CliDeps): Promise<boolean> {
  const { config } = await configFromArgs(parseCommand(args), deps, { offline: true });
  deps.stdout(JSON.stringify(readState(config.state_file), null, 2) + "\n");
  return true;
}
