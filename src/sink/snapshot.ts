/**
 * A consistent, read-only copy of a SQLite destination for report tools on other PCs
 * (`publish_to`, `act-sync backup FILE`): one file, not in WAL mode (SQLite does not support WAL
 * on a network share), written atomically so that a reader never sees half a file.
 *
 * @module
 */
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { errorMessage } from "../core/errors.ts";

/**
 * Write a snapshot of the SQLite database `source` to `target`: `VACUUM INTO` a temporary name
 * in the target's folder (a consistent copy of the last committed state, while writers go on),
 * journal mode DELETE, flushed to disk, made read-only, then renamed over the old copy (readers
 * that have the old copy open keep reading it). Throws an Error naming the target on failure
 * and leaves no temporary file behind.
 */
export function writeSnapshot(source: string, target: string): void {
  const to = resolve(target);
  if (resolve(source) === to) {
    throw new Error(`Cannot write a snapshot of "${source}" over itself`);
  }
  const temp = join(
    dirname(to),
    `.${basename(to)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`,
  );
  try {
    if (!existsSync(source)) throw new Error(`the database "${source}" does not exist`);
    const db = new DatabaseSync(source, { readOnly: true });
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      db.prepare("VACUUM INTO ?").run(temp);
    } finally {
      db.close();
    }
    const copy = new DatabaseSync(temp);
    try {
      copy.exec("PRAGMA journal_mode = DELETE");
    } finally {
      copy.close();
    }
    const fd = openSync(temp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, 0o444);
    // Windows refuses to replace a read-only file: the old copy loses that attribute first.
    if (process.platform === "win32" && existsSync(to)) chmodSync(to, 0o644);
    renameSync(temp, to);
  } catch (error) {
    try {
      rmSync(temp, { force: true });
    } catch {
      // The folder is not there or not writable: no temporary file was left either.
    }
    throw new Error(`Cannot write snapshot "${to}": ${errorMessage(error)}`, { cause: error });
  }
}
