import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { createFileWriter } from "../src/core/log_file.ts";
import { tempDir } from "./_helpers.ts";

let dir = "";
before(() => {
  dir = tempDir("act-sync-log-file-");
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("createFileWriter()", () => {
  test("creates the log file 0600 and its folders 0700, also after a rotation", {
    skip: process.platform === "win32",
  }, () => {
    const folder = join(dir, "private");
    const file = join(folder, "act-sync.log");
    const write = createFileWriter(file, { maxBytes: 16, keep: 1 });
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    write("a line of twenty bytes");
    write("another line");
    assert.ok(existsSync(`${file}.1`), "rotated");
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test("appends lines and creates missing folders", () => {
    const file = join(dir, "a", "b", "act-sync.log");
    const write = createFileWriter(file);
    assert.ok(existsSync(file), "the file is created at once");
    write("first");
    write("zweite Zeile: é");
    assert.equal(readFileSync(file, "utf8"), "first\nzweite Zeile: é\n");
    // A second writer (the next scheduled run) appends to the same file.
    createFileWriter(file)("third");
    assert.equal(readFileSync(file, "utf8"), "first\nzweite Zeile: é\nthird\n");
  });

  test("rotates when a write would exceed maxBytes and keeps at most `keep` old files", () => {
    const file = join(dir, "rot", "x.log");
    const write = createFileWriter(file, { maxBytes: 20, keep: 2 });
    const line = "123456789"; // 10 bytes with the newline
    for (let i = 0; i < 7; i++) write(`${line.slice(1)}${i}`);
    // 7 lines of 10 bytes, 2 per file: x.log has line 6, x.log.1 lines 4-5, x.log.2 lines 2-3.
    assert.equal(readFileSync(file, "utf8"), "234567896\n");
    assert.equal(readFileSync(`${file}.1`, "utf8"), "234567894\n234567895\n");
    assert.equal(readFileSync(`${file}.2`, "utf8"), "234567892\n234567893\n");
    assert.ok(!existsSync(`${file}.3`));
    assert.deepEqual(readdirSync(join(dir, "rot")).sort(), ["x.log", "x.log.1", "x.log.2"]);
    for (const name of ["x.log", "x.log.1", "x.log.2"]) {
      assert.ok(statSync(join(dir, "rot", name)).size <= 20);
    }
  });

  test("counts bytes, not characters", () => {
    const file = join(dir, "bytes.log");
    const write = createFileWriter(file, { maxBytes: 8, keep: 1 });
    write("éé"); // 5 bytes
    write("éé"); // would make 10 bytes: rotates
    assert.equal(readFileSync(file, "utf8"), "éé\n");
    assert.equal(readFileSync(`${file}.1`, "utf8"), "éé\n");
  });

  test("writes a line longer than maxBytes into a fresh file", () => {
    const file = join(dir, "long.log");
    const write = createFileWriter(file, { maxBytes: 5 });
    write("abc");
    write("a line longer than five bytes");
    assert.equal(readFileSync(file, "utf8"), "a line longer than five bytes\n");
    assert.equal(readFileSync(`${file}.1`, "utf8"), "abc\n");
  });

  test("keep: 0 truncates instead of keeping old files", () => {
    const file = join(dir, "none.log");
    const write = createFileWriter(file, { maxBytes: 10, keep: 0 });
    write("12345678");
    write("abcdefgh");
    assert.equal(readFileSync(file, "utf8"), "abcdefgh\n");
    assert.ok(!existsSync(`${file}.1`));
  });

  test("recreates the folder when it was removed while running", () => {
    const sub = join(dir, "gone");
    const file = join(sub, "x.log");
    const errors: unknown[] = [];
    const write = createFileWriter(file, { onError: (e) => errors.push(e) });
    rmSync(sub, { recursive: true, force: true });
    write("still here");
    assert.equal(readFileSync(file, "utf8"), "still here\n");
    assert.deepEqual(errors, []);
  });

  test("reports a failed write to onError instead of throwing", () => {
    const file = join(dir, "blocked.log");
    const errors: unknown[] = [];
    const write = createFileWriter(file, { onError: (e) => errors.push(e) });
    rmSync(file);
    // A folder in place of the file makes every append fail.
    createFileWriter(join(file, "inner.log"));
    write("lost");
    assert.equal(errors.length, 1);
  });

  test("rejects bad options", () => {
    assert.throws(() => createFileWriter(join(dir, "o.log"), { maxBytes: 0 }), RangeError);
    assert.throws(() => createFileWriter(join(dir, "o.log"), { keep: -1 }), /'keep'/);
  });
});
