/**
 * The lock beside the state file (`state.json.lock`): a kernel lock (flock, LockFileEx) the
 * operating system drops when the run ends, with pid checks as the fallback where none can be
 * had. See {@linkcode acquireLock}.
 *
 * @module
 */
import { lstatSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import process from "node:process";
import { LockError } from "../core/errors.ts";
import { readRegularFileSync } from "../core/files.ts";
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
import { parseHttpDate, utcMs } from "../core/time.ts";

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
 * Where no kernel lock can be had (Bun on macOS or with musl libc, a file system without locks),
 * the file's existence is the lock (a pid-only lock, `kernel_lock: false`), and it is stale, and
 * taken over, when its process is gone or when its pid now belongs to another process (pid reuse
 * after a crash or a reboot): on Linux the pid's boot and start time (`/proc`) must match the
 * ones recorded, on Windows its image name (`tasklist`). An unreadable lock file is stale too. A
 * pid-only lock naming another host, or a live pid whose identity cannot be compared, holds: the
 * message says to delete the file if no act-sync is running.
 *
 * The kernel lock decides. A run that holds it takes over a pid-only lock file unless the run
 * that wrote it provably still lives on this host (its recorded identity matches the live
 * process): a file naming another host, or a live pid with nothing to compare, cannot keep it
 * out. `kernelLock: false` takes a pid-only lock even where a kernel lock could be had (tests).
 *
 * A lock file that is a symbolic link, a named pipe or anything but a regular file is refused.
 */
export function acquireLock(
  statePath: string,
  options: { kernelLock?: boolean } = {},
): StateLock {
  const path = `${statePath}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const found = lstatSync(path, { throwIfNoEntry: false });
  if (found?.isSymbolicLink()) {
    throw new Error(`Cannot take the lock "${path}": it is a symbolic link: remove it`);
  }
  if (found && !found.isFile()) {
    throw new Error(`Cannot take the lock "${path}": it is not a regular file: remove it`);
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
    // A pid-only lock from a run that had no kernel lock counts only while that run provably lives.
    const holder = readHolder(path);
    if (
      holder.kernel_lock === false && holder.pid !== undefined &&
      holder.hostname === hostname() && holderLives(holder) === "yes"
    ) {
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

/**
 * What the lock file says, each field only when it has its type (a pid a positive integer);
 * empty when the file is missing, unreadable or locked against reading.
 */
function readHolder(path: string): LockHolder {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readRegularFileSync(path).toString("utf8"));
  } catch {
    return {};
  }
  if (!raw || typeof raw !== "object") return {};
  const text = (key: string) => typeof raw[key] === "string" ? raw[key] as string : undefined;
  const holder: LockHolder = {
    pid: Number.isSafeInteger(raw.pid) && (raw.pid as number) > 0 ? raw.pid as number : undefined,
    hostname: text("hostname") || undefined,
    started: text("started"),
    kernel_lock: typeof raw.kernel_lock === "boolean" ? raw.kernel_lock : undefined,
    boot_id: text("boot_id"),
    proc_start: text("proc_start"),
    image: text("image"),
  };
  for (const key of Object.keys(holder) as (keyof LockHolder)[]) {
    if (holder[key] === undefined) delete holder[key];
  }
  return holder;
}

/** Whether a lock file's content alone (no kernel lock) still keeps other runs out. */
function holdsPidLock(holder: LockHolder): boolean {
  if (holder.pid === undefined || holder.hostname === undefined) return false;
  return holder.hostname !== hostname() || holderLives(holder) !== "no";
}

/**
 * The LockError naming the holder with what the lock file says of it (pid, host when not this
 * one, start when it is a date); with `kernel` false, also how to clear a lock left behind.
 */
function heldError(path: string, holder: LockHolder, kernel: boolean): LockError {
  const elsewhere = holder.hostname !== undefined && holder.hostname !== hostname()
    ? holder.hostname
    : undefined;
  const started = holder.started === undefined ? NaN : startedMs(holder.started);
  const details = [
    ...(holder.pid !== undefined ? [`pid ${holder.pid}`] : []),
    ...(elsewhere !== undefined ? [`on host ${JSON.stringify(elsewhere)}`] : []),
    ...(Number.isNaN(started) ? [] : [`started ${new Date(started).toISOString()}`]),
  ];
  const who = details.length ? ` (${details.join(", ")})` : "";
  const clear = kernel
    ? ""
    : `, or delete the lock file if no act-sync is running${
      elsewhere !== undefined ? ` on host ${JSON.stringify(elsewhere)}` : ""
    }`;
  return new LockError(
    `Another act-sync run${who} holds the lock "${path}": wait for it to finish${clear}`,
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

/**
 * Whether the process named by a lock file on this host is still the run that wrote it: "yes" or
 * "no" when what the file recorded can be compared with the live process, "unknown" for a live
 * pid with nothing to compare (no identity, no start time).
 */
function holderLives(holder: LockHolder): "yes" | "no" | "unknown" {
  const pid = holder.pid!;
  const answer = (held: boolean) => held ? "yes" : "no";
  if (pid === process.pid) {
    // Our own pid: held by this very process (same start), else left by an earlier one.
    const self = processIdentity(pid);
    return answer(
      self.proc_start !== undefined && self.proc_start === holder.proc_start &&
        self.boot_id === holder.boot_id,
    );
  }
  if (!isAlive(pid)) return "no";
  const now = processIdentity(pid);
  if (now.boot_id !== undefined && holder.boot_id !== undefined) {
    return answer(now.boot_id === holder.boot_id && now.proc_start === holder.proc_start);
  }
  if (now.proc_start !== undefined && holder.started !== undefined) {
    // A lock from an older act-sync (no identity recorded): the pid is another process when it
    // started after the lock was taken.
    const started = processStartMs(now.proc_start);
    const taken = startedMs(holder.started);
    if (started !== undefined && !Number.isNaN(taken)) return answer(started <= taken + 5_000);
  }
  if (process.platform === "win32" && holder.image !== undefined) {
    const image = windowsImageName(pid);
    if (image !== undefined) return answer(image.toLowerCase() === holder.image.toLowerCase());
  }
  return "unknown";
}

/**
 * When the holder says it started, in ms (NaN when unreadable): an ISO date-time as act-sync
 * writes it, or an HTTP date, as a hand-written or older lock file may hold. Never host-local time.
 */
function startedMs(text: string): number {
  const iso = utcMs(text);
  return Number.isNaN(iso) ? (parseHttpDate(text) ?? NaN) : iso;
}
