/**
 * The kernel lock under Deno: `Deno.FsFile.tryLockSync` (flock on Linux and macOS, LockFileEx
 * over the whole file on Windows).
 *
 * @module
 */
import process from "node:process";
import { type KernelLockAttempt, refuseSwapped } from "./_kernel_lock.ts";

/**
 * Open the lock file (created 0600 when missing, never truncated) and try an exclusive lock on it
 * without waiting.
 */
export function denoLock(deno: typeof Deno, path: string): KernelLockAttempt {
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
  const lock = {
    write(text: string) {
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
