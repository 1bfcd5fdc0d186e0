/**
 * An appending log file with size-based rotation, for runs (a Windows scheduled task, a service)
 * that have nowhere to show standard error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createFileWriter } from "./log_file.ts";
 * import { createLogger } from "./log.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "act-sync-"));
 * const path = join(dir, "logs", "act-sync.log");
 * const logger = createLogger({ write: createFileWriter(path, { maxBytes: 1_048_576 }) });
 * logger.info("Sync started");
 * assert.match(readFileSync(path, "utf8"), /Sync started/);
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { errorMessage } from "./errors.ts";

/** Options for {@linkcode createFileWriter}. */
export interface FileWriterOptions {
  /** Rotate before a write would make the file larger than this many bytes. @default {10485760} */
  maxBytes?: number;
  /** How many rotated files to keep (`FILE.1` newest … `FILE.<keep>` oldest); 0 keeps none. @default {3} */
  keep?: number;
  /**
   * Called when a write or a rotation fails (disk full, file locked); logging never throws.
   * @default {reports the first failure once on console.error}
   */
  onError?: (error: unknown) => void;
}

/**
 * Create a function that appends `line + "\n"` to the file at `path`, synchronously. When the
 * write would make the file exceed `maxBytes`, the file is rotated first: `FILE.<keep-1>` →
 * `FILE.<keep>` … `FILE` → `FILE.1`. Missing folders are created now; a folder that cannot be
 * created throws here, so a bad `log_file` is reported at start-up.
 */
export function createFileWriter(
  path: string,
  options: FileWriterOptions = {},
): (line: string) => void {
  const file = resolve(path);
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const keep = options.keep ?? 3;
  if (!(maxBytes > 0)) {
    throw new RangeError(
      `Cannot create the log file writer: 'maxBytes' must be positive: current value is "${maxBytes}"`,
    );
  }
  if (!Number.isSafeInteger(keep) || keep < 0) {
    throw new RangeError(
      `Cannot create the log file writer: 'keep' must be a non-negative integer: current value is "${keep}"`,
    );
  }
  // Logs may name hosts, tables and errors: readable by the owner only (POSIX; 0700 folders).
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, "", { mode: 0o600 });
  let reported = false;
  const onError = options.onError ?? ((error: unknown) => {
    if (reported) return;
    reported = true;
    console.error(
      `Cannot write the log file "${file}": ${errorMessage(error)}`,
    );
  });
  const encoder = new TextEncoder();
  return (line: string): void => {
    const text = `${line}\n`;
    try {
      const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      if (size > 0 && size + encoder.encode(text).length > maxBytes) rotate(file, keep);
    } catch (error) {
      // A failed rotation (file locked by a viewer on Windows) must not lose the line.
      onError(error);
    }
    try {
      // The folder may have been removed while running: recreate it.
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      appendFileSync(file, text, { mode: 0o600 });
    } catch (error) {
      onError(error);
    }
  };
}

function rotate(file: string, keep: number): void {
  if (keep === 0) {
    rmSync(file, { force: true });
    return;
  }
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    if (statSync(`${file}.${i}`, { throwIfNoEntry: false })) {
      renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    }
  }
  renameSync(file, `${file}.1`);
}
