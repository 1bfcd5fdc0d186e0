/**
 * The lock beside the state file (`state.json.lock`): a kernel lock (flock, LockFileEx) the
 * operating system drops when the run ends, with pid checks as the fallback where none can be
 * had. See {@linkcode acquireLock}.
 *
 * @module
 */
import { lstatSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import process from "node:process";
import { LockError } from "../core/errors.ts";
import { denoGlobal, RUNTIME } from "../core/runtime.ts";
import { bunFlock, bunLockFileEx } from "./_bun_locks.ts";
import { denoLock } from "./_deno_lock.ts";
import type { KernelLockAttempt } from "./_kernel_lock.ts";
import {
  isAlive,
  type ProcessIdentity,
  processIdentity,
  processStartMs,
  windowsImageName,
} from "./_process.ts";

/** A held lock; release() lets it go (and removes the lock file when it was a pid-only lock). */
export interface StateLock {
  readonly path: string;
  release(): void;
}

/** What a lock file says about the run that holds it (with its process's identity). */
interface LockHolder extends ProcessIdentity {
  pid?: number;
  hostname?: string;
  /** When the run took the lock (ISO). */
  started?: string;
  /**
   * Whether the run holds a kernel lock on the file. A lock file with `false` was written by a
   * run that could not have one: only its pid and identity keep other runs out.
   */
  kernel_lock?: boolean;
}

/**
 * Take the lock beside the state file (`state.json.lock`). Throws LockError when a live act-sync
 * run holds it.
 *
 * The lock is a kernel lock on the open lock file (flock on Linux, LockFileEx on Windows), held
 * for as long as the run keeps the file open: the operating system drops it when the process
 * ends, however it ends, so no lock outlives its run. The file stays between runs (emptied on
 * release); what it says (pid, host, start) only names the holder in the error.
 *
 * Where no kernel lock can be had (Bun on macOS, a file system without locks), the file's
 * existence is the lock, and it is stale, and taken over, when its process is gone or when its
 * pid now belongs to another process (pid reuse after a crash or a reboot): on Linux the pid's
 * boot and start time (`/proc`) must match the ones recorded, on Windows its image name
 * (`tasklist`). An unreadable lock file is stale too. `kernelLock: false` takes that pid-only lock
 * even where a kernel lock could be had (for tests).
 */
export function acquireLock(
  statePath: string,
  options: { kernelLock?: boolean } = {},
): StateLock {
  const path = `${statePath}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) {
    throw new Error(`Cannot take the lock "${path}": it is a symbolic link: remove it`);
  }
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    started: new Date().toISOString(),
    ...processIdentity(process.pid),
  };
  const kernel = options.kernelLock === false ? undefined : tryKernelLock(path);
  if (kernel === "held") throw heldError(path, readHolder(path), true);
  if (kernel) {
    // A pid-only lock from a run that had no kernel lock still counts while its run lives.
    const holder = readHolder(path);
    if (holder.kernel_lock === false && holdsPidLock(holder)) {
      kernel.close();
      throw heldError(path, holder, false);
    }
    try {
      kernel.write(JSON.stringify({ ...me, kernel_lock: true }));
    } catch (error) {
      kernel.close();
      throw error;
    }
    return releasedOnce(path, () => {
      try {
        kernel.write(""); // an empty file names no holder, also to a run without kernel locks
      } catch { /* the lock goes anyway */ }
      kernel.close();
    });
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ ...me, kernel_lock: false }), {
        flag: "wx",
        mode: 0o600,
      });
      return releasedOnce(path, () => {
        try {
          unlinkSync(path);
        } catch { /* already gone */ }
      });
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const holder = readHolder(path);
    if (holdsPidLock(holder)) throw heldError(path, holder, false);
    try {
      unlinkSync(path); // left by a dead process: take it over
    } catch { /* someone else took it over first */ }
  }
  throw new LockError(`Cannot take the lock "${path}"`);
}

/** The lock at `path`, whose `release` runs `free` the first time it is called. */
function releasedOnce(path: string, free: () => void): StateLock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      free();
    },
  };
}

/** What the lock file says; empty when it is missing, unreadable or locked against reading. */
function readHolder(path: string): LockHolder {
  try {
    const holder = JSON.parse(readFileSync(path, "utf8"));
    return holder && typeof holder === "object" ? holder : {};
  } catch {
    return {};
  }
}

/** Whether a lock file's content alone (no kernel lock) still keeps other runs out. */
function holdsPidLock(holder: LockHolder): boolean {
  if (typeof holder.pid !== "number" || !holder.hostname) return false;
  return holder.hostname !== hostname() || isHeld(holder);
}

/** The LockError naming the holder, when the lock file names one. */
function heldError(path: string, holder: LockHolder, kernel: boolean): LockError {
  if (typeof holder.pid === "number" && holder.hostname && holder.hostname !== hostname()) {
    return new LockError(
      `An act-sync run on host "${holder.hostname}" (pid ${holder.pid}) holds the lock "${path}"`,
    );
  }
  const who = typeof holder.pid === "number"
    ? ` (pid ${holder.pid}, started ${holder.started})`
    : "";
  return new LockError(
    `Another act-sync run${who} holds the lock "${path}": wait for it to finish` +
      (kernel ? "" : ", or delete the lock file if no act-sync is running"),
  );
}

/**
 * Open the lock file (created 0600 when missing, never truncated) and try an exclusive kernel
 * lock on it without waiting: the lock; "held" when another open file holds it (another process,
 * or this one); undefined when this runtime or file system has none (then the pid checks apply).
 * Deno: `Deno.FsFile.tryLockSync` (flock, LockFileEx). Bun: flock from libc on Linux, LockFileEx
 * from kernel32 on Windows, through `bun:ffi`.
 */
function tryKernelLock(path: string): KernelLockAttempt {
  const deno = denoGlobal<typeof Deno>();
  if (typeof deno?.FsFile?.prototype?.tryLockSync === "function") return denoLock(deno, path);
  if (RUNTIME !== "bun") return undefined;
  if (process.platform === "linux") return bunFlock(path);
  if (process.platform === "win32") return bunLockFileEx(path);
  return undefined;
}

/** Whether the process named by a lock on this host is still the run that took it. */
function isHeld(holder: LockHolder): boolean {
  const pid = holder.pid!;
  if (pid === process.pid) {
    // Our own pid: held by this very process (same start), else left by an earlier one.
    const self = processIdentity(pid);
    return self.proc_start !== undefined && self.proc_start === holder.proc_start &&
      self.boot_id === holder.boot_id;
  }
  if (!isAlive(pid)) return false;
  const now = processIdentity(pid);
  if (now.boot_id !== undefined && holder.boot_id !== undefined) {
    return now.boot_id === holder.boot_id && now.proc_start === holder.proc_start;
  }
  if (now.proc_start !== undefined && holder.started !== undefined) {
    // A lock from an older act-sync (no identity recorded): the pid is another process when it
    // started after the lock was taken.
    const started = processStartMs(now.proc_start);
    const taken = Date.parse(holder.started);
    if (started !== undefined && !Number.isNaN(taken)) return started <= taken + 5_000;
  }
  if (process.platform === "win32" && holder.image !== undefined) {
    const image = windowsImageName(pid);
    if (image !== undefined) return image.toLowerCase() === holder.image.toLowerCase();
  }
  return true; // cannot tell: a live pid holds it
}
