import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
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

const posix = process.platform !== "win32";

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
