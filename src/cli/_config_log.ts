/**
 * A configuration error written to the log file too: a scheduled task that cannot load its
 * config has no terminal, so the reason must reach the file the admin reads.
 *
 * @module
 */
import { join } from "node:path";
import type { ConfigError } from "../core/errors.ts";
import { createLogger } from "../core/log.ts";
import { createFileWriter } from "../core/log_file.ts";
import type { Secrets } from "../core/secrets.ts";

/** The log file beside a compiled executable used when the config names none. */
export const DEFAULT_ERROR_LOG = "act-sync.log";

/**
 * Write a config error that came from loading the configuration to the log file it names, else
 * to {@linkcode DEFAULT_ERROR_LOG} beside a compiled executable; returns the file written, or
 * undefined (none found, or it cannot be written: the terminal still has the error).
 */
export function logConfigError(
  error: ConfigError,
  options: { command: string; exeDir?: string; secrets: Secrets },
): string | undefined {
  if (!error.log) return undefined;
  const file = error.log.file ??
    (options.exeDir ? join(options.exeDir, DEFAULT_ERROR_LOG) : undefined);
  if (!file) return undefined;
  let failed = false;
  try {
    const write = createFileWriter(file, { onError: () => failed = true });
    const logger = createLogger({
      format: error.log.format,
      write,
      secrets: options.secrets,
      context: options.command ? { command: options.command } : {},
    });
    // One line: "Cannot load config: a; b" (the terminal lists them one a line).
    logger.severe(`Cannot load config: ${error.issues.join("; ")}`);
  } catch {
    return undefined;
  }
  return failed ? undefined : file;
}
