/**
 * The lock beside the state file (`state.json.lock`): a kernel lock (flock, LockFileEx) the
 * operating system drops when the run ends, with pid checks as the fallback where none can be
 * had. See {@linkcode acquireLock}.
 *
 * @module
 */
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { spawnSync } from "node:child_process";

import { hostname } from "node:os";
import { basename, dirname, resolve } from "node:path";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import process from "node:process";
import { LockError } from "../core/errors.ts";
import { denoGlobal, RUNTIME } from "../core/runtime.ts";
import { utcMs } from "../core/time.ts";

/** A held lock; release() lets it go (and removes the lock file when it was a pid-only lock). */
export interface StateLock {
  readonly path: string;
  release(): void;
}

/** What a lock file says about the run that holds it. */
interface LockHolder {
  pid?: number;
  hostname?: string;
  /** When the run took the lock (ISO). */
  started?: string;
  /**
   * Whether the run holds a kernel lock on the file. A lock file with `false` was written by a
   * run that could not have one: only its pid and identity keep other runs out.
   */
  kernel_lock?: boolean;
  /** Linux: the boot (`/proc/sys/kernel/random/boot_id`) and the process's start time in ticks. */
  boot_id?: string;
  proc_start?: string;
  /** Windows: the image name of the process (`act-sync.exe`), compared with `tasklist`'s. */
  image?: string;
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

/** An exclusive kernel lock on the open lock file; the OS drops it when the process ends. */
interface KernelLock {
  /** Replace the lock file's content, through the locked handle. */
  write(text: string): void;
  /** Let the lock go and close the file. */
  close(): void;
}

/**
 * Open the lock file (created 0600 when missing, never truncated) and try an exclusive kernel
 * lock on it without waiting: the lock; "held" when another open file holds it (another process,
 * or this one); undefined when this runtime or file system has none (then the pid checks apply).
 * Deno: `Deno.FsFile.tryLockSync` (flock, LockFileEx). Bun: flock from libc on Linux, LockFileEx
 * from kernel32 on Windows, through `bun:ffi`.
 */
function tryKernelLock(path: string): KernelLock | "held" | undefined {
  const deno = denoGlobal<typeof Deno>();
  if (typeof deno?.FsFile?.prototype?.tryLockSync === "function") return denoLock(deno, path);
  if (RUNTIME !== "bun") return undefined;
  if (process.platform === "linux") return bunFlock(path);
  if (process.platform === "win32") return bunLockFileEx(path);
  return undefined;
}

function denoLock(deno: typeof Deno, path: string): KernelLock | "held" | undefined {
  const file = deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  let locked: boolean;
  try {
    locked = file.tryLockSync(true);
  } catch {
    file.close(); // no locks on this file system
    return undefined;
  }
  if (!locked) {
    file.close();
    return "held";
  }
  const lock: KernelLock = {
    write(text) {
      file.truncateSync(0);
      file.seekSync(0, deno.SeekMode.Start);
      const bytes = new TextEncoder().encode(text);
      for (let done = 0, guard = 0; done < bytes.length && guard < 1000; guard++) {
        done += file.writeSync(bytes.subarray(done));
      }
    },
    close() {
      file.close(); // closing the file drops its lock
    },
  };
  refuseSwapped(path, process.platform === "win32" ? null : file.statSync().ino, lock);
  return lock;
}

/** The parts of `bun:ffi` used here. */
interface BunFfi {
  dlopen(
    name: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => number | bigint> };
  ptr(view: ArrayBufferView): number;
  read: { i32(pointer: number, offset?: number): number };
}

let ffi: BunFfi | null | undefined;
/** `bun:ffi` (in Bun and in its compiled binaries), or null. */
function bunFfi(): BunFfi | null {
  if (ffi === undefined) {
    try {
      const specifier = "bun:ffi"; // not a static import: Deno has no such module
      ffi = createRequire(import.meta.url)(specifier) as BunFfi;
    } catch {
      ffi = null;
    }
  }
  return ffi;
}

let libc: { flock(fd: number, op: number): number; errno(): number } | null | undefined;
function bunFlock(path: string): KernelLock | "held" | undefined {
  if (libc === undefined) {
    try {
      const bun = bunFfi()!;
      const { symbols } = bun.dlopen("libc.so.6", {
        flock: { args: ["i32", "i32"], returns: "i32" },
        __errno_location: { args: [], returns: "ptr" },
      });
      libc = {
        flock: (fd, op) => Number(symbols.flock(fd, op)),
        errno: () => bun.read.i32(Number(symbols.__errno_location())),
      };
    } catch {
      libc = null; // no FFI, or not glibc
    }
  }
  if (!libc) return undefined;
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  const LOCK_EX = 2, LOCK_NB = 4, EWOULDBLOCK = 11;
  if (libc.flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    const errno = libc.errno();
    closeSync(fd);
    return errno === EWOULDBLOCK ? "held" : undefined;
  }
  const lock: KernelLock = {
    write(text) {
      ftruncateSync(fd, 0);
      writeSync(fd, text, 0);
    },
    close() {
      closeSync(fd); // the only descriptor of this open file: the flock goes with it
    },
  };
  refuseSwapped(path, fstatSync(fd).ino, lock);
  return lock;
}

let kernel32: Record<string, (...args: unknown[]) => number | bigint> | null | undefined;
/**
 * Windows, Bun: the file opened with CreateFileW (read and write shared, so the holder's line
 * stays readable) and one byte far beyond its end locked with LockFileEx. A whole-file
 * LockFileEx (Deno's) overlaps that byte, so Bun and Deno runs exclude each other.
 */
function bunLockFileEx(path: string): KernelLock | "held" | undefined {
  const bun = bunFfi();
  if (kernel32 === undefined) {
    try {
      kernel32 = bun!.dlopen("kernel32.dll", {
        CreateFileW: { args: ["ptr", "u32", "u32", "ptr", "u32", "u32", "ptr"], returns: "i64" },
        LockFileEx: { args: ["i64", "u32", "u32", "u32", "u32", "ptr"], returns: "i32" },
        WriteFile: { args: ["i64", "ptr", "u32", "ptr", "ptr"], returns: "i32" },
        SetFilePointerEx: { args: ["i64", "i64", "ptr", "u32"], returns: "i32" },
        SetEndOfFile: { args: ["i64"], returns: "i32" },
        CloseHandle: { args: ["i64"], returns: "i32" },
        GetLastError: { args: [], returns: "u32" },
      }).symbols;
    } catch {
      kernel32 = null;
    }
  }
  if (!bun || !kernel32) return undefined;
  const k = kernel32;
  const GENERIC_READ_WRITE = 0xC0000000, FILE_SHARE_READ_WRITE = 3, OPEN_ALWAYS = 4;
  const FILE_ATTRIBUTE_NORMAL = 0x80, ERROR_SHARING_VIOLATION = 32, ERROR_LOCK_VIOLATION = 33;
  const name = Buffer.from(resolve(path) + "\0", "utf16le");
  const handle = BigInt(
    k.CreateFileW(
      bun.ptr(name),
      GENERIC_READ_WRITE,
      FILE_SHARE_READ_WRITE,
      null,
      OPEN_ALWAYS,
      FILE_ATTRIBUTE_NORMAL,
      null,
    ),
  );
  if (handle === -1n) {
    const code = Number(k.GetLastError());
    if (code === ERROR_SHARING_VIOLATION) return "held";
    throw new Error(`Cannot open the lock file "${path}": Windows error ${code}`);
  }
  // OVERLAPPED (32 bytes): the range starts at Offset/OffsetHigh (bytes 16-23): 2^62.
  const overlapped = new Uint8Array(32);
  new DataView(overlapped.buffer).setUint32(20, 0x4000_0000, true);
  const LOCKFILE_EXCLUSIVE_FAIL_IMMEDIATELY = 3;
  if (!k.LockFileEx(handle, LOCKFILE_EXCLUSIVE_FAIL_IMMEDIATELY, 0, 1, 0, bun.ptr(overlapped))) {
    const code = Number(k.GetLastError());
    k.CloseHandle(handle);
    return code === ERROR_LOCK_VIOLATION || code === ERROR_SHARING_VIOLATION ? "held" : undefined;
  }
  return {
    write(text) {
      const bytes = Buffer.from(text, "utf8");
      const written = new Uint32Array(1);
      const ok = k.SetFilePointerEx(handle, 0n, null, 0) &&
        (bytes.length === 0 || // no pointer to an empty buffer
          k.WriteFile(handle, bun.ptr(bytes), bytes.length, bun.ptr(written), null)) &&
        k.SetEndOfFile(handle);
      if (!ok || written[0] !== bytes.length) {
        throw new Error(
          `Cannot write the lock file "${path}": Windows error ${Number(k.GetLastError())}`,
        );
      }
    },
    close() {
      k.CloseHandle(handle); // closing the handle drops its lock
    },
  };
}

/**
 * Throws, closing the lock, when `path` is no longer the file that was opened and locked (a
 * symbolic link swapped in meanwhile). `ino` is the open file's inode number, null to skip that
 * comparison (Windows).
 */
function refuseSwapped(path: string, ino: number | null, lock: KernelLock): void {
  const now = lstatSync(path, { throwIfNoEntry: false });
  if (!now || now.isSymbolicLink() || (ino !== null && now.ino !== ino)) {
    lock.close();
    throw new Error(`Cannot take the lock "${path}": it was replaced while being opened`);
  }
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
    const taken = utcMs(holder.started);
    if (started !== undefined && !Number.isNaN(taken)) return started <= taken + 5_000;
  }
  if (process.platform === "win32" && holder.image !== undefined) {
    const image = windowsImageName(pid);
    if (image !== undefined) return image.toLowerCase() === holder.image.toLowerCase();
  }
  return true; // cannot tell: a live pid holds it
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Who a process is, beyond its pid: what this platform lets us read without native code. */
function processIdentity(pid: number): Pick<LockHolder, "boot_id" | "proc_start" | "image"> {
  if (process.platform === "win32") {
    return pid === process.pid ? { image: basename(process.execPath) } : {};
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime, clock ticks since boot); field 2 (the name) may hold spaces and ")".
    const proc_start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const boot_id = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return proc_start ? { boot_id, proc_start } : {};
  } catch {
    return {};
  }
}

/** A process's start time in epoch ms from its `/proc` start ticks (assumes 100 ticks a second). */
function processStartMs(ticks: string): number | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000 + Number(ticks) * 10;
  } catch {
    return undefined;
  }
}

/** The image name of a Windows process (`act-sync.exe`), or undefined when it cannot be read. */
function windowsImageName(pid: number): string | undefined {
  try {
    const out = spawnSync("tasklist", ["/FI", `PID eq ${pid}`, "/FO", "CSV", "/NH"], {
      encoding: "utf8",
      timeout: 10_000,
      windowsHide: true,
    });
    const row = out.status === 0 ? /^"([^"]+)","(\d+)"/m.exec(out.stdout ?? "") : null;
    return row && Number(row[2]) === pid ? row[1] : undefined;
  } catch {
    return undefined;
  }
}
