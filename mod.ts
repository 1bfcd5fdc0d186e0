/**
 * act-sync: copy the CRM data of an Act! installation (contacts, companies, opportunities,
 * activities, activity types, products) out of the Act! Web API into SQLite or PostgreSQL,
 * incrementally and without losing a row.
 *
 * Run it as a program (`deno run -A mod.ts --once`, `bun mod.ts --once` or the compiled
 * `act-sync --once`), or use the library API:
 *
 * ```ts
 * import { runCli } from "./mod.ts";
 * const code = await runCli({
 *   args: ["--version"], env: {}, cwd: ".", isTty: false,
 *   stdout: (t) => console.log(t), stderr: (t) => console.error(t),
 * });
 * ```
 *
 * @module
 */
import process from "node:process";
import { basename, dirname } from "node:path";
import { runCli } from "./src/cli/mod.ts";

export { EXIT, runCli, USAGE } from "./src/cli/mod.ts";
export type { CliDeps } from "./src/cli/mod.ts";
export { ConfigError, HttpError, LockError, UsageError } from "./src/core/errors.ts";
export { TABLE_NAMES, TABLES } from "./src/act/tables.ts";
export type { TableName, TableSpec } from "./src/act/tables.ts";
export { VERSION } from "./src/core/version.ts";

/** Run the command line with the real process, and exit with its code. */
export async function main(): Promise<void> {
  const code = await runCli({
    args: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTty: Boolean(process.stderr.isTTY),
    exeDir: executableDir(),
  });
  process.exitCode = code;
  // Service mode and servers keep the event loop alive on purpose; a finished command exits.
  process.exit(code);
}

/** The folder of a compiled act-sync binary; undefined under `deno run` or `bun` (source). */
function executableDir(): string | undefined {
  const exe = process.execPath;
  if (/^(deno|bun|node)(\.exe)?$/i.test(basename(exe))) return undefined;
  return dirname(exe);
}

if (import.meta.main) {
  await main();
}
