/**
 * The flags the commands share: the ones that override config keys, the strict parser that turns
 * a bad flag into a usage error (exit code 2), and loading the configuration with them.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig, type ParseArgsOptionsConfig } from "node:util";
import { type Config, loadConfig } from "../config/mod.ts";
import { ConfigError, errorMessage, UsageError } from "../core/errors.ts";
import { closest } from "../core/closest.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { createFileWriter } from "../core/log_file.ts";
import { isTableName, TABLE_NAMES, type TableName } from "../act/tables.ts";
import type { CliDeps } from "./command.ts";

/** Parse arguments strictly, turning parseArgs errors into usage errors (exit 2). */
export function parseFlags<T extends ParseArgsConfig>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const message = errorMessage(error);
    const unknown = message.match(/^Unknown option '([^']+)'/);
    if (unknown) {
      const names = Object.keys(config.options ?? {}).map((name) => `--${name}`);
      const guess = closest(unknown[1], names);
      throw new UsageError(
        `Unknown flag for this command: "${unknown[1]}"${
          guess ? `: did you mean "${guess}"?` : ""
        }`,
        { cause: error },
      );
    }
    throw new UsageError(message, { cause: error });
  }
}

/** Flags every config-reading command accepts; each overrides a config key. */
export const CONFIG_FLAGS = {
  config: { type: "string", short: "c" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  state: { type: "string" },
  destination: { type: "string" },
  tables: { type: "string" },
  "log-level": { type: "string" },
  "log-format": { type: "string" },
  "http-host": { type: "string" },
  "http-port": { type: "string" },
} as const satisfies ParseArgsOptionsConfig;

/** Parsed flags plus positionals. */
export interface CommonArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parse a command's flags: {@linkcode CONFIG_FLAGS} and its own (strict: an unknown one is a usage error). */
export function parseCommand(
  args: string[],
  own: ParseArgsOptionsConfig = {},
  options: { positionals?: boolean } = {},
): CommonArgs {
  const { values, positionals } = parseFlags({
    args,
    options: { ...CONFIG_FLAGS, ...own },
    allowPositionals: true,
    strict: true,
  });
  if (!options.positionals && positionals.length > 0) {
    throw new UsageError(`Unexpected argument: "${positionals[0]}"`);
  }
  return { values: values as CommonArgs["values"], positionals };
}

/** The tables named on the command line (none: every configured table). */
export function tableArgs(positionals: string[]): TableName[] {
  const unknown = positionals.filter((t) => !isTableName(t));
  if (unknown.length > 0) {
    const guess = unknown.length === 1 ? closest(unknown[0], TABLE_NAMES) : undefined;
    throw new UsageError(
      `Unknown table: "${unknown.join('", "')}"${guess ? `: did you mean "${guess}"?` : ""} ` +
        `(valid tables: ${TABLE_NAMES.join(", ")})`,
    );
  }
  return positionals as TableName[];
}

/** Load the configuration with the flags as overrides (flags > env > file). */
export async function configFromArgs(
  parsed: CommonArgs,
  deps: CliDeps,
  options: { offline?: boolean } = {},
): Promise<{ config: Config; logger: Logger; runId: string }> {
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
  if (v.quiet && v.verbose) throw new UsageError(`"--quiet" and "--verbose" exclude each other`);
  if (v.quiet) overrides.log_level = "WARNING";
  if (v.verbose) overrides.log_level = "FINE";
  for (const [flag, key] of Object.entries(map)) {
    if (v[flag] !== undefined) overrides[key] = v[flag];
  }
  let loaded;
  try {
    loaded = await loadConfig({
      path: v.config as string | undefined,
      env: deps.env,
      cwd: deps.cwd,
      exeDir: deps.exeDir,
      overrides,
      secrets: deps.secrets,
    });
  } catch (error) {
    // A bad flag value is a usage error, not a problem of the config file.
    const fromFlags = error instanceof ConfigError &&
      error.issues.every((issue) => issue.endsWith("(from the command line)"));
    if (!fromFlags) throw error;
    throw new UsageError(
      error.issues.map((issue) => issue.replace(/ \(from the command line\)$/, "")).join("\n"),
      { cause: error },
    );
  }
  const { config, warnings } = loaded;
  const runId = crypto.randomUUID().slice(0, 8);
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
    context: { run: runId },
    secrets: deps.secrets,
  });
  logger.secrets.addCredentials(config.username, config.password);
  logger.addSecret(config.http_token);
  for (const warning of warnings) logger.warning(warning);
  return { config, logger, runId };
}
