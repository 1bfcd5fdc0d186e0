import { RUNTIME } from "../src/core/runtime.ts";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { type ChildProcess, spawn } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import process from "node:process";
import {
  acquireLock,
  cursorOf,
  emptyState,
  progressOf,
  readState,
  withCompleted,
  withProgress,
  withReset,
  writeState,
} from "../src/state/mod.ts";
import { LockError } from "../src/core/errors.ts";
import { tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-state-");
after(() => rmSync(dir, { recursive: true, force: true }));

test("readState() accepts a state file written by the Python connector and keeps its keys", () => {
  const path = join(dir, "seed.json");
  writeFileSync(
    path,
    JSON.stringify({
      table_cursors: { contacts: "2024-03-01T10:00:00+00:00", companies: "2024-03-01T10:00:00Z" },
      table_batch_tracking: { contacts: { batch: 3, skip: 30000 } },
      other: 1,
    }),
  );
  const state = readState(path);
  assert.equal(cursorOf(state, "contacts"), Date.parse("2024-03-01T10:00:00Z"));
  assert.equal(
    progressOf(state, "contacts"),
    null,
    "the Python connector's tracking is not a resume point",
  );
  assert.equal(state.other, 1);
  writeState(path, state);
  assert.equal(JSON.parse(readFileSync(path, "utf8")).other, 1);
});

test("readState() refuses a corrupt file, names it and the way out, and leaves it untouched", () => {
  const path = join(dir, "corrupt.json");
  writeFileSync(path, '{"table_cursors": {"contacts": "2024-');
  assert.throws(() => readState(path), (error: Error) => {
    assert.match(error.message, /corrupt\.json/);
    assert.match(error.message, /act-sync reset/);
    return true;
  });
  assert.equal(readFileSync(path, "utf8"), '{"table_cursors": {"contacts": "2024-');
  writeFileSync(path, '{"table_cursors": {"contacts": "yesterday"}}');
  assert.throws(() => readState(path), /cursor of "contacts" is not a date/);
  assert.deepEqual(readState(join(dir, "missing.json")), emptyState());
});

test("state transitions: progress, completion moves the cursor and clears progress, reset", () => {
  let state = withProgress(emptyState(), "contacts", {
    window_start: "2024-01-01T00:00:00Z",
    window_end: "2024-02-01T00:00:00Z",
    position: "2024-01-15T00:00:00Z",
    rows: 10,
  });
  assert.equal(progressOf(state, "contacts")?.position, "2024-01-15T00:00:00Z");
  state = withCompleted(state, "contacts", "2024-02-01T00:00:00Z", { rows_last_run: 10 });
  assert.equal(progressOf(state, "contacts"), null);
  assert.equal(state.table_cursors.contacts, "2024-02-01T00:00:00Z");
  state = withCompleted(state, "products", "2024-02-01T00:00:00Z", {});
  state = withReset(state, ["contacts"]);
  assert.deepEqual(Object.keys(state.table_cursors), ["products"]);
  assert.deepEqual(withReset(state, []).table_cursors, {});
});

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

test("a pid-only lock (no kernel lock) holds while its process lives, for both kinds of run", () => {
  const statePath = join(dir, "pid-only", "state.json");
  const lockPath = `${statePath}.lock`;
  mkdirSync(join(dir, "pid-only"));
  // A live process on this host (our parent) holds it: refused, with or without a kernel lock.
  writeFileSync(
    lockPath,
    JSON.stringify({ pid: process.ppid, hostname: hostname(), kernel_lock: false }),
  );
  assert.throws(() => acquireLock(statePath), /or delete the lock file/);
  assert.throws(() => acquireLock(statePath, { kernelLock: false }), LockError);
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

test("writeState() never follows a planted temp-file symlink and leaves no temp file behind", {
  skip: !posix,
}, () => {
  const folder = join(dir, "planted");
  mkdirSync(folder);
  const path = join(folder, "state.json");
  const victim = join(dir, "victim.txt");
  writeFileSync(victim, "precious");
  // The temp name an older act-sync used (pid-based, predictable), planted as a symlink.
  symlinkSync(victim, join(folder, `.state.json.${process.pid}.tmp`));
  writeState(path, emptyState());
  assert.equal(readFileSync(victim, "utf8"), "precious");
  assert.deepEqual(readState(path), emptyState());
  assert.deepEqual(readdirSync(folder).sort(), [`.state.json.${process.pid}.tmp`, "state.json"]);
});

test("writeState() removes its temp file when the write or the rename fails", () => {
  const folder = join(dir, "failing");
  mkdirSync(folder);
  const path = join(folder, "state.json");
  // The write fails after the temp file exists (a value JSON cannot hold, like a full disk).
  const state = { ...emptyState(), bad: 1n } as unknown as ReturnType<typeof emptyState>;
  assert.throws(() => writeState(path, state), TypeError);
  assert.deepEqual(readdirSync(folder), []);
  // The rename fails: the state path is a folder.
  mkdirSync(path);
  assert.throws(() => writeState(path, emptyState()));
  assert.deepEqual(readdirSync(folder), ["state.json"]);
});

test(
  "writeState() writes through a state file that is a symbolic link; a dangling one is refused",
  {
    skip: !posix,
  },
  () => {
    const folder = join(dir, "linked");
    const real = join(dir, "linked-target");
    mkdirSync(folder);
    mkdirSync(real);
    const path = join(folder, "state.json");
    symlinkSync(join(real, "state.json"), path);
    writeFileSync(join(real, "state.json"), "{}");
    writeState(path, withCompleted(emptyState(), "contacts", "2024-01-01T00:00:00Z", {}));
    assert.ok(lstatSync(path).isSymbolicLink(), "the link stays a link");
    assert.equal(
      readState(join(real, "state.json")).table_cursors.contacts,
      "2024-01-01T00:00:00Z",
    );
    assert.deepEqual(readdirSync(real), ["state.json"]);
    rmSync(join(real, "state.json"));
    assert.throws(() => writeState(path, emptyState()), /symbolic link to a missing file/);
    assert.ok(lstatSync(path).isSymbolicLink());
  },
);

test("the state file, its lock and the folders act-sync creates are private (0600, 0700)", {
  skip: !posix,
}, () => {
  const folder = join(dir, "private", "sub");
  const path = join(folder, "state.json");
  const lock = acquireLock(path);
  assert.equal(statSync(folder).mode & 0o777, 0o700);
  assert.equal(statSync(lock.path).mode & 0o777, 0o600);
  writeState(path, emptyState());
  assert.equal(statSync(path).mode & 0o777, 0o600);
  lock.release();
});

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
