/**
 * The kernel locks under Bun, through `bun:ffi` (also in the compiled binaries): flock from libc
 * on Linux, LockFileEx from kernel32 on Windows. Elsewhere (macOS, musl libc) there is none.
 *
 * @module
 */
import { closeSync, constants, fstatSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { type KernelLock, type KernelLockAttempt, refuseSwapped } from "./_kernel_lock.ts";

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
/** Linux, Bun: flock from libc (glibc's `libc.so.6`) on the open lock file. */
export function bunFlock(path: string): KernelLockAttempt {
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
export function bunLockFileEx(path: string): KernelLockAttempt {
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
