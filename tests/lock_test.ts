import { RUNTIME } from "../src/core/runtime.ts";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { acquireLock } from "../src/state/mod.ts";
import { LockError } from "../src/core/errors.ts";
import { tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-lock-");
after(() => rmSync(dir, { recursive: true, force: true }));

test("acquireLock(): the kernel lock keeps a second holder out; the file's content alone does not", () => {
  const statePath = join(dir, "locked", "state.json");
  const lock = acquireLock(statePath);
  // A second open of the file, even in this process, cannot have the lock.
  assert.throws(
    () => acquireLock(statePath),
    new RegExp(`Another act-sync run \\(pid ${process.pid}, started .+\\) holds the lock`),
  );
  const recorded = JSON.parse(readFileSync(lock.path, "utf8"));
  assert.equal(recorded.pid, process.pid);
  assert.equal(recorded.kernel_lock, true);
  lock.release();
  assert.equal(readFileSync(lock.path, "utf8"), "", "the file stays, emptied");
  // A file naming a live process on this host (our parent, or this very process with its real
  // identity), with no kernel lock held: taken.
  writeFileSync(lock.path, JSON.stringify({ pid: process.ppid, hostname: hostname() }));
  acquireLock(statePath).release();
  writeFileSync(lock.path, JSON.stringify({ ...recorded, left_by: "an earlier holder" }));
  const again = acquireLock(statePath);
  // Taken and rewritten by the new holder (a timestamp may repeat within a millisecond).
  const rewritten = JSON.parse(readFileSync(again.path, "utf8"));
  assert.equal(rewritten.left_by, undefined);
  assert.equal(rewritten.pid, process.pid);
  again.release();
  // An unreadable lock file is no obstacle either.
  writeFileSync(lock.path, "garbage");
  acquireLock(statePath).release();
});

/** The command that runs a TypeScript file under this runtime. */
function runtimeCommand(script: string, ...args: string[]): [string, string[]] {
  const bun = RUNTIME === "bun";
  return [process.execPath, bun ? [script, ...args] : ["run", "-A", "--no-check", script, ...args]];
}

/** A child process (this runtime) that takes the lock with act-sync's code and keeps it. */
async function lockHolder(statePath: string): Promise<ChildProcess> {
  const script = join(dir, "hold_lock.ts");
  writeFileSync(
    script,
    `import { acquireLock } from ${
      JSON.stringify(new URL("../src/state/mod.ts", import.meta.url).href)
    };
import process from "node:process";
const lock = acquireLock(process.argv[process.argv.length - 1]);
console.log("locked " + lock.path);
setInterval(() => lock, 60_000);
`,
  );
  const [command, args] = runtimeCommand(script, statePath);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no lock after 60 s: ${out}`)), 60_000);
    const done = (error?: Error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("locked ")) done();
    });
    child.stderr!.on("data", (chunk) => out += chunk);
    child.once("error", done);
    child.once("exit", (code) => done(new Error(`the lock holder exited with ${code}: ${out}`)));
  });
  return child;
}

/** SIGKILL a child and wait until it is gone. */
async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await gone;
}

test("a run killed (SIGKILL) while holding the lock leaves none behind; while it lives, it holds", async () => {
  const statePath = join(dir, "killed", "state.json");
  const child = await lockHolder(statePath);
  try {
    assert.throws(() => acquireLock(statePath), (error: Error) => {
      assert.ok(error instanceof LockError);
      assert.match(error.message, new RegExp(`pid ${child.pid}\\b`));
      return true;
    });
    // The kernel lock decides, not the file: a file naming a dead process still blocks.
    writeFileSync(`${statePath}.lock`, JSON.stringify({ pid: 4_194_000, hostname: hostname() }));
    assert.throws(() => acquireLock(statePath), LockError);
  } finally {
    await killHard(child);
  }
  // The killed run's lock went with it, whatever its file says.
  const lock = acquireLock(statePath);
  assert.equal(JSON.parse(readFileSync(lock.path, "utf8")).pid, process.pid);
  lock.release();
});

test("a pid-only lock (no kernel lock) holds while its process lives, for a run without a kernel lock", () => {
  const statePath = join(dir, "pid-only", "state.json");
  const lockPath = `${statePath}.lock`;
  mkdirSync(join(dir, "pid-only"));
  // A live process on this host (our parent) holds it: refused.
  writeFileSync(
    lockPath,
    JSON.stringify({ pid: process.ppid, hostname: hostname(), kernel_lock: false }),
  );
  assert.throws(() => acquireLock(statePath, { kernelLock: false }), /or delete the lock file/);
  // A process that no longer exists: taken over; released, the pid-only lock file goes.
  writeFileSync(
    lockPath,
    JSON.stringify({ pid: 4_194_000, hostname: hostname(), kernel_lock: false }),
  );
  const again = acquireLock(statePath, { kernelLock: false });
  assert.equal(JSON.parse(readFileSync(again.path, "utf8")).kernel_lock, false);
  again.release();
  assert.equal(existsSync(lockPath), false);
  writeFileSync(lockPath, "garbage");
  acquireLock(statePath, { kernelLock: false }).release();
});

const posix = process.platform !== "win32";
const linux = process.platform === "linux";

test("a pid-only lock is taken over when its pid is alive but is another program", {
  skip: !linux,
}, async () => {
  const statePath = join(dir, "reused", "state.json");
  const mine = acquireLock(statePath, { kernelLock: false });
  const recorded = JSON.parse(readFileSync(mine.path, "utf8"));
  mine.release();
  const other = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    await new Promise((resolve, reject) => other.once("spawn", resolve).once("error", reject));
    // Same boot, live pid, but the process started at another time than the recorded one.
    writeFileSync(
      `${statePath}.lock`,
      JSON.stringify({ ...recorded, pid: other.pid, proc_start: "1" }),
    );
    acquireLock(statePath, { kernelLock: false }).release();
    // A lock from before a reboot (another boot id) is stale whatever the pid.
    writeFileSync(
      `${statePath}.lock`,
      JSON.stringify({ ...recorded, pid: other.pid, boot_id: "x" }),
    );
    acquireLock(statePath, { kernelLock: false }).release();
    // An older lock without identity: the pid's process started after the lock was taken.
    writeFileSync(
      `${statePath}.lock`,
      JSON.stringify({ pid: other.pid, hostname: hostname(), started: "2020-01-01T00:00:00Z" }),
    );
    acquireLock(statePath, { kernelLock: false }).release();
    // The same pid with the identity it really has holds the lock.
    const held = readFileSync(`/proc/${other.pid}/stat`, "utf8");
    const start = held.slice(held.lastIndexOf(")") + 2).split(" ")[19];
    writeFileSync(
      `${statePath}.lock`,
      JSON.stringify({ ...recorded, pid: other.pid, proc_start: start }),
    );
    assert.throws(() => acquireLock(statePath, { kernelLock: false }), LockError);
  } finally {
    other.kill("SIGKILL");
    rmSync(`${statePath}.lock`, { force: true });
  }
});

test("acquireLock() refuses while this very process holds the lock", () => {
  const statePath = join(dir, "self", "state.json");
  const lock = acquireLock(statePath);
  try {
    assert.throws(() => acquireLock(statePath), LockError);
  } finally {
    lock.release();
  }
  acquireLock(statePath).release();
  const pidOnly = acquireLock(statePath, { kernelLock: false });
  try {
    if (linux) assert.throws(() => acquireLock(statePath, { kernelLock: false }), LockError);
  } finally {
    pidOnly.release();
  }
});

test("a lock file that is a symbolic link is refused and its target left alone", {
  skip: !posix,
}, () => {
  const folder = join(dir, "planted-lock");
  mkdirSync(folder);
  const victim = join(dir, "lock-victim.txt");
  writeFileSync(victim, "precious");
  symlinkSync(victim, join(folder, "state.json.lock"));
  assert.throws(() => acquireLock(join(folder, "state.json")), /is a symbolic link/);
  assert.equal(readFileSync(victim, "utf8"), "precious");
});

/** The LockError message of `acquireLock(statePath, options)`; fails when it takes the lock. */
function refusal(statePath: string, options: { kernelLock?: boolean } = {}): string {
  try {
    acquireLock(statePath, options).release();
  } catch (error) {
    assert.ok(error instanceof LockError, String(error));
    return error.message;
  }
  assert.fail("expected a LockError");
}

test("the kernel lock decides: a pid-only lock file naming another host is taken over", () => {
  const statePath = join(dir, "other-host", "state.json");
  const lockPath = `${statePath}.lock`;
  mkdirSync(join(dir, "other-host"));
  const foreign = { pid: 4242, hostname: "build-07.example", kernel_lock: false };
  writeFileSync(lockPath, JSON.stringify(foreign));
  const lock = acquireLock(statePath);
  assert.equal(JSON.parse(readFileSync(lock.path, "utf8")).pid, process.pid);
  lock.release();
  // A run without a kernel lock cannot check the other host: it holds, and the message says so.
  writeFileSync(lockPath, JSON.stringify(foreign));
  assert.equal(
    refusal(statePath, { kernelLock: false }),
    `Another act-sync run (pid 4242, on host "build-07.example") holds the lock "${lockPath}": ` +
      `wait for it to finish, or delete the lock file if no act-sync is running on host ` +
      `"build-07.example"`,
  );
});

test("the kernel lock decides: a live pid without start or identity is taken over", () => {
  const statePath = join(dir, "no-start", "state.json");
  const lockPath = `${statePath}.lock`;
  mkdirSync(join(dir, "no-start"));
  // Our parent lives for as long as this test runs; nothing recorded can tell it from a reuse.
  const bare = { pid: process.ppid, hostname: hostname(), kernel_lock: false };
  writeFileSync(lockPath, JSON.stringify(bare));
  acquireLock(statePath).release();
  writeFileSync(lockPath, JSON.stringify(bare));
  assert.equal(
    refusal(statePath, { kernelLock: false }),
    `Another act-sync run (pid ${process.ppid}) holds the lock "${lockPath}": ` +
      `wait for it to finish, or delete the lock file if no act-sync is running`,
  );
});

test("a lock message shows only what the file says, of the right type, never undefined", () => {
  const statePath = join(dir, "odd-fields", "state.json");
  const lockPath = `${statePath}.lock`;
  mkdirSync(join(dir, "odd-fields"));
  const cases: Record<string, unknown>[] = [
    { pid: process.ppid, hostname: hostname(), started: "soon" },
    { pid: process.ppid, hostname: hostname(), started: null, boot_id: 7 },
    { pid: process.ppid, hostname: hostname(), started: new Date().toISOString() },
    { pid: process.ppid, hostname: "far\u001b[31m", started: 12 },
  ];
  for (const holder of cases) {
    writeFileSync(lockPath, JSON.stringify({ ...holder, kernel_lock: false }));
    const message = refusal(statePath, { kernelLock: false });
    assert.doesNotMatch(message, /undefined|null|NaN/, message);
    assert.ok(!message.includes("\u001b"), message);
    assert.match(message, new RegExp(`^Another act-sync run \\(pid ${process.ppid}\\b`));
  }
  // A start given in another form shows as ISO (after our parent started: it still holds).
  const later = new Date(Date.now() + 60_000);
  writeFileSync(
    lockPath,
    JSON.stringify({ pid: process.ppid, hostname: hostname(), started: later.toUTCString() }),
  );
  const shown = new Date(Math.floor(later.getTime() / 1000) * 1000).toISOString();
  assert.ok(refusal(statePath, { kernelLock: false }).includes(`, started ${shown})`));
  // A pid that is no positive integer names no holder: the file is stale.
  for (const pid of ["123", -5, 1.5, 0]) {
    writeFileSync(lockPath, JSON.stringify({ pid, hostname: hostname(), kernel_lock: false }));
    acquireLock(statePath, { kernelLock: false }).release();
  }
});

/** A child process (this runtime) that takes a pid-only lock (no kernel lock) and keeps it. */
async function pidOnlyHolder(statePath: string): Promise<ChildProcess> {
  const script = join(dir, "hold_pid_lock.ts");
  writeFileSync(
    script,
    `import { acquireLock } from ${
      JSON.stringify(new URL("../src/state/mod.ts", import.meta.url).href)
    };
import process from "node:process";
const lock = acquireLock(process.argv[process.argv.length - 1], { kernelLock: false });
console.log("locked " + lock.path);
setInterval(() => lock, 60_000);
`,
  );
  const [command, args] = runtimeCommand(script, statePath);
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no lock after 60 s: ${out}`)), 60_000);
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("locked ")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (chunk) => out += chunk);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the lock holder exited with ${code}: ${out}`));
    });
  });
  return child;
}

test("a pid-only run that provably lives keeps a run with the kernel lock out", {
  skip: !linux,
}, async () => {
  const statePath = join(dir, "proven", "state.json");
  const child = await pidOnlyHolder(statePath);
  try {
    assert.match(refusal(statePath), new RegExp(`\\(pid ${child.pid}, started [^)]+\\) holds`));
    assert.match(refusal(statePath, { kernelLock: false }), new RegExp(`pid ${child.pid}\\b`));
  } finally {
    await killHard(child);
  }
  // Gone: its file is taken over by either kind of run.
  acquireLock(statePath).release();
});

test("a lock file that is a named pipe is refused at once", {
  skip: posix ? false : "no mkfifo",
}, () => {
  const folder = join(dir, "fifo-lock");
  mkdirSync(folder);
  assert.equal(spawnSync("mkfifo", [join(folder, "state.json.lock")]).status, 0);
  const script = join(dir, "take_lock.ts");
  writeFileSync(
    script,
    `import { acquireLock } from ${
      JSON.stringify(new URL("../src/state/mod.ts", import.meta.url).href)
    };
import process from "node:process";
try {
  acquireLock(process.argv[process.argv.length - 1]).release();
  console.log("taken");
} catch (error) {
  console.log((error as Error).message);
}
`,
  );
  const [command, args] = runtimeCommand(script, join(folder, "state.json"));
  const result = spawnSync(command, args, {
    encoding: "utf8",
    timeout: 60_000,
    killSignal: "SIGKILL",
  });
  assert.equal(result.status, 0, `exit code (null: it hung): ${result.stderr}`);
  assert.match(
    result.stdout,
    /Cannot take the lock ".*state\.json\.lock": it is not a regular file: remove it/,
  );
});
