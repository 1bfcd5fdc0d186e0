/**
 * argv → command. The only place that prints usage or decides the exit code.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { COMMIT, VERSION } from "./version.ts";
import { ConfigError, LockError } from "./errors.ts";

/** Exit codes of the contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3 } as const;

/** What the CLI needs from the outside world; `main()` in mod.ts passes the real ones. */
export interface CliDeps {
  /** Command-line arguments without the program name. */
  args: string[];
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** Working directory. */
  cwd: string;
  /** Standard output (results, tables). */
  stdout: (text: string) => void;
  /** Standard error (logs, errors). */
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress lines). */
  isTty: boolean;
}

/** Usage text for `--help`. */
export const USAGE =
  `act-sync ${VERSION}: copy Act! CRM data into SQLite or PostgreSQL, incrementally

Usage:
  act-sync --once [options]        sync every configured table once, then exit
  act-sync [options]               service mode: sync on the schedule, serve /health /state /metrics
  act-sync check [options]         authenticate and probe each table's endpoint
  act-sync state [options]         print the state file
  act-sync reset [TABLE...]        forget cursors so the next run re-reads those tables
  act-sync reconcile [TABLE...]    mark rows deleted in Act! and fetch rows missing locally
  act-sync demo                    sync the built-in simulator into demo/act.db
  act-sync simulate [--port N] [--records N] [--seed S] [--username U] [--password P]
                    [--database D] [switches]   run the Act! Web API simulator on 127.0.0.1

Options:
  --config FILE          configuration file (default: configuration.json, or env ACT_SYNC_CONFIG)
  --state FILE           state file (config key state_file)
  --destination URL      sqlite:FILE or postgres://... (config key destination)
  --tables a,b           tables to sync (config key tables)
  --full-refresh         ignore cursors and re-read everything
  --log-level LEVEL      INFO | FINE | WARNING | SEVERE
  --log-format FORMAT    text | json
  --http-host HOST       service mode: interface to bind (default 127.0.0.1)
  --http-port N          service mode: port (default 8787)
  --help                 show this help
  --version              show the version

Exit codes: 0 every table synced, 1 the sync failed, 2 configuration or usage error,
3 another act-sync run holds the lock on the state file.
`;

/** Run the CLI; returns the exit code. */
export async function runCli(deps: CliDeps): Promise<number> {
  const [first, ...rest] = deps.args;
  const command = first && !first.startsWith("-") ? first : "";
  const args = command ? rest : deps.args;
  try {
    if (deps.args.includes("--help") || deps.args.includes("-h") || command === "help") {
      deps.stdout(USAGE);
      return EXIT.ok;
    }
    if (deps.args.includes("--version") || command === "version") {
      deps.stdout(`act-sync ${VERSION}${COMMIT ? ` (${COMMIT})` : ""}\n`);
      return EXIT.ok;
    }
    const handler = COMMANDS[command];
    if (!handler) {
      throw new ConfigError([`Unknown command: "${command}"; run 'act-sync --help' for usage`]);
    }
    return await handler(args, deps);
  } catch (error) {
    if (error instanceof ConfigError) {
      deps.stderr(`${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof LockError) {
      deps.stderr(`${error.message}\n`);
      return EXIT.locked;
    }
    deps.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  }
}

type CommandHandler = (args: string[], deps: CliDeps) => Promise<number>;

/** Parse arguments strictly, turning parseArgs errors into usage errors (exit 2). */
export function parseFlags<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new ConfigError([error instanceof Error ? error.message : String(error)], {
      cause: error,
    });
  }
}

// --- command dispatch: one entry per subcommand ("" is the default: --once or service mode) ---
const COMMANDS: Record<string, CommandHandler> = {
  "": (args) => {
    parseFlags({ args, options: { once: { type: "boolean" } }, strict: false });
    throw new ConfigError(["Sync is not implemented yet"]);
  },
};
