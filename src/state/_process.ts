/**
 * Who a process is, beyond its pid, as far as this platform lets us read it without native code:
 * whether it lives, its boot and start time on Linux (`/proc`), its image name on Windows
 * (`tasklist`). The lock protocol (src/state/lock.ts) records it, and compares it later to tell
 * the run that wrote a lock file from another process that reuses its pid.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { basename } from "node:path";
import process from "node:process";

/** What identifies a process beyond its pid; a field is missing where it cannot be read. */
export interface ProcessIdentity {
  /** Linux: the boot (`/proc/sys/kernel/random/boot_id`). */
  boot_id?: string;
  /** Linux: the process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22). */
  proc_start?: string;
  /** Windows: the image name of the process (`act-sync.exe`), compared with `tasklist`'s. */
  image?: string;
}

/** Whether a process with this pid exists (on this host). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * The identity of process `pid`: on Linux its boot and start time, on Windows (this process
 * only: another one's name comes from {@linkcode windowsImageName}) its image name.
 */
export function processIdentity(pid: number): ProcessIdentity {
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
export function processStartMs(ticks: string): number | undefined {
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1];
    return btime === undefined ? undefined : Number(btime) * 1000 + Number(ticks) * 10;
  } catch {
    return undefined;
  }
}

/** The image name of a Windows process (`act-sync.exe`), or undefined when it cannot be read. */
export function windowsImageName(pid: number): string | undefined {
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
