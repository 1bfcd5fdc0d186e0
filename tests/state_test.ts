import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
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
} from "../src/state.ts";
import { LockError } from "../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "act-sync-state-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("readState() accepts a state file written by the seed's connector and keeps its keys", () => {
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
  assert.equal(progressOf(state, "contacts"), null, "the seed's tracking is not a resume point");
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

test("acquireLock() stops a second holder and takes over a lock left by a dead process", () => {
  const statePath = join(dir, "locked", "state.json");
  const lock = acquireLock(statePath);
  // A live process on this host (our parent) holds the lock: refused.
  writeFileSync(lock.path, JSON.stringify({ pid: process.ppid, hostname: hostname() }));
  assert.throws(() => acquireLock(statePath), LockError);
  lock.release();
  assert.equal(existsSync(lock.path), false);
  // A lock naming a process that no longer exists on this host is stale: taken over.
  writeFileSync(`${statePath}.lock`, JSON.stringify({ pid: 4_194_000, hostname: hostname() }));
  const again = acquireLock(statePath);
  assert.equal(JSON.parse(readFileSync(again.path, "utf8")).pid, process.pid);
  again.release();
  // An unreadable lock file is stale too.
  writeFileSync(`${statePath}.lock`, "garbage");
  acquireLock(statePath).release();
});
