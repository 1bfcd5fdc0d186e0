/**
 * What a kernel lock is to the lock protocol (src/state/lock.ts), and what every back end checks
 * once it holds one. The back ends: Deno's `FsFile.tryLockSync` (src/state/_deno_lock.ts), and
 * flock or LockFileEx through `bun:ffi` (src/state/_bun_locks.ts).
 *
 * @module
 */
import { lstatSync } from "node:fs";

/** An exclusive kernel lock on the open lock file; the OS drops it when the process ends. */
export interface KernelLock {
  /** Replace the lock file's content, through the locked handle. */
  write(text: string): void;
  /** Let the lock go and close the file. */
  close(): void;
}

/**
 * What trying a kernel lock gives: the lock; "held" when another open file holds it (another
 * process, or this one); undefined when this runtime or file system has none.
 */
export type KernelLockAttempt = KernelLock | "held" | undefined;

/**
 * Throws, closing the lock, when `path` is no longer the file that was opened and locked (a
 * symbolic link swapped in meanwhile). `ino` is the open file's inode number, null to skip that
 * comparison (Windows).
 */
export function refuseSwapped(path: string, ino: number | null, lock: KernelLock): void {
  const now = lstatSync(path, { throwIfNoEntry: false });
  if (!now || now.isSymbolicLink() || (ino !== null && now.ino !== ino)) {
    lock.close();
    throw new Error(`Cannot take the lock "${path}": it was replaced while being opened`);
  }
}
