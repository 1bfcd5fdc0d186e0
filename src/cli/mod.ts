/**
 * argv → command. The only place that prints usage or decides the exit code.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { COMMIT, VERSION } from "../core/version.ts";
import { ConfigError, LockError } from "../core/errors.ts";
import { type Config, loadConfig } from "../config/mod.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { escapeControl, Secrets } from "../core/secrets.ts";
import { onStopSignal } from "../core/runtime.ts";
import { createFileWriter } from "../core/log_file.ts";
import {
  acquireLock,
  emptyState,
  moveAside,
  readState,
  withReset,
  writeState,
} from "../state/mod.ts";
import { isTableName, TABLE_NAMES, type TableName } from "../sync/tables.ts";
import { formatSummary, runSync } from "../jobs/sync.ts";

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
  /**
   * The secrets redacted from everything printed; {@linkcode runCli} creates it (and wraps
   * `stdout`/`stderr` with it), the commands fill it from the configuration.
   */
  secrets?: Secrets;
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
export async function runCli(outside: CliDeps): Promise<number> {
  // Every byte printed goes through the one redaction, whichever command prints it.
  const secrets = outside.secrets ?? new Secrets();
  const deps: CliDeps = {
    ...outside,
    secrets,
    stdout: (text) => outside.stdout(secrets.redact(text)),
    stderr: (text) => outside.stderr(secrets.redact(text)),
  };
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
      deps.stderr(`${printable(error.message)}\n`);
      return EXIT.usage;
    }
    if (error instanceof LockError) {
      deps.stderr(`${printable(error.message)}\n`);
      return EXIT.locked;
    }
    deps.stderr(`Error: ${printable(error instanceof Error ? error.message : String(error))}\n`);
    return EXIT.failed;
  }
}

/** An error message for the terminal: control characters escaped, its own line breaks kept. */
function printable(message: string): string {
  return message.split("\n").map(escapeControl).join("\n");
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

/** Flags every config-reading command accepts; each overrides a config key. */
const COMMON_FLAGS = {
  config: { type: "string" },
  state: { type: "string" },
  destination: { type: "string" },
  tables: { type: "string" },
  "full-refresh": { type: "boolean" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "http-host": { type: "string" },
  "http-port": { type: "string" },
  once: { type: "boolean" },
  force: { type: "boolean" },
} as const;

/** Parsed common flags plus positionals. */
export interface CommonArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parse the common flags (strict: an unknown flag is a usage error). */
export function parseCommon(args: string[]): CommonArgs {
  const { values, positionals } = parseFlags({
    args,
    options: COMMON_FLAGS,
    allowPositionals: true,
    strict: true,
  });
  return { values: values as CommonArgs["values"], positionals };
}

/** Load the configuration with the flags as overrides (flags > env > file). */
export async function configFromArgs(
  parsed: CommonArgs,
  deps: CliDeps,
  options: { offline?: boolean } = {},
): Promise<{ config: Config; logger: Logger }> {
  const v = parsed.values;
  // Commands that never call Act! (state, reset) need no password.
  const overrides: Record<string, unknown> = options.offline ? { password: "(not used)" } : {};
  const map: Record<string, string> = {
    state: "state_file",
    destination: "destination",
    tables: "tables",
    "log-level": "log_level",
    "log-format": "log_format",
    "http-host": "http_host",
    "http-port": "http_port",
  };
  for (const [flag, key] of Object.entries(map)) {
    if (v[flag] !== undefined) overrides[key] = v[flag];
  }
  const { config, warnings } = await loadConfig({
    path: v.config as string | undefined,
    env: deps.env,
    cwd: deps.cwd,
    overrides,
  });
  const fileWriter = config.log_file
    ? createFileWriter(config.log_file, { maxBytes: config.log_max_bytes })
    : null;
  const logger = createLogger({
    level: config.log_level,
    format: config.log_format,
    write: (line) => {
      deps.stderr(line + "\n");
      fileWriter?.(line);
    },
    context: { run: crypto.randomUUID().slice(0, 8) },
    secrets: deps.secrets,
  });
  logger.secrets.addCredentials(config.username, config.password);
  logger.addSecret(config.http_token);
  for (const warning of warnings) logger.warning(warning);
  return { config, logger };
}

function tableArgs(positionals: string[]): TableName[] {
  const unknown = positionals.filter((t) => !isTableName(t));
  if (unknown.length > 0) {
    throw new ConfigError([
      `Unknown table: "${unknown.join('", "')}"; valid tables: ${TABLE_NAMES.join(", ")}`,
    ]);
  }
  return positionals as TableName[];
}

async function runOnce(args: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCommon(args);
  if (parsed.positionals.length > 0) {
    throw new ConfigError([`Unexpected argument: "${parsed.positionals[0]}"`]);
  }
  const { config, logger } = await configFromArgs(parsed, deps);
  if (!parsed.values.once) return await runServiceCommand(config, logger, deps);
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
    return run.ok ? EXIT.ok : EXIT.failed;
  } finally {
    stop();
  }
}

async function runServiceCommand(config: Config, logger: Logger, deps: CliDeps): Promise<number> {
  const { runService } = await import("../service/mod.ts");
  return await runService(config, { logger, stdout: deps.stdout, stderr: deps.stderr });
}

async function stateCommand(args: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCommon(args);
  const { config } = await configFromArgs(parsed, deps, { offline: true });
  deps.stdout(JSON.stringify(readState(config.state_file), null, 2) + "\n");
  return EXIT.ok;
}

async function resetCommand(args: string[], deps: CliDeps): Promise<number> {
  const parsed = parseCommon(args);
  const tables = tableArgs(parsed.positionals);
  const { config, logger } = await configFromArgs(parsed, deps, { offline: true });
  const lock = acquireLock(config.state_file);
  try {
    let state;
    try {
      state = readState(config.state_file);
    } catch (error) {
      if (tables.length > 0) throw error;
      const moved = moveAside(config.state_file, new Date());
      logger.warning(`Moved the unreadable state file aside to "${moved}"`);
      state = emptyState();
    }
    writeState(config.state_file, withReset(state, tables));
    deps.stdout(
      `Reset ${tables.length ? tables.join(", ") : "every table"}: ` +
        `the next run re-reads ${tables.length === 1 ? "it" : "them"} from the start\n`,
    );
    return EXIT.ok;
  } finally {
    lock.release();
  }
}

async function demoCommand(args: string[], deps: CliDeps): Promise<number> {
  const { runDemo } = await import("./demo.ts");
  return await runDemo(args, deps);
}

// --- command dispatch: one entry per subcommand ("" is the default: --once or service mode) ---
const COMMANDS: Record<string, CommandHandler> = {
  "": runOnce,
  state: stateCommand,
  reset: resetCommand,
  demo: demoCommand,
  check: async (args, deps) => {
    const { config, logger } = await configFromArgs(parseCommon(args), deps);
    const { runCheck } = await import("../jobs/check.ts");
    return (await runCheck(config, { stdout: deps.stdout, logger })) ? EXIT.ok : EXIT.failed;
  },
  simulate: async (args, deps) => (await import("./simulate.ts")).runSimulate(args, deps),
  reconcile: async (args, deps) => {
    const parsed = parseCommon(args);
    const tables = tableArgs(parsed.positionals);
    const { config, logger } = await configFromArgs(parsed, deps);
    const { formatReconcileSummary, runReconcile } = await import("../jobs/reconcile.ts");
    const controller = new AbortController();
    const stop = onStopSignal(() => controller.abort());
    try {
      const run = await runReconcile(config, {
        tables: tables.length > 0 ? tables : undefined,
        force: parsed.values.force === true,
      }, { logger, signal: controller.signal });
      deps.stdout(formatReconcileSummary(run));
      return run.ok ? EXIT.ok : EXIT.failed;
    } finally {
      stop();
    }
  },
};
