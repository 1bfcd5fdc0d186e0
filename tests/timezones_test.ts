// The date tests (tests/dates_test.ts) under three host time zones, in the runtime running this
// file: a date-time without an offset must mean UTC whatever TZ says.
import { RUNTIME } from "../src/core/runtime.ts";
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";

const root = fileURLToPath(new URL("..", import.meta.url));
const bun = RUNTIME === "bun";

for (const zone of ["UTC", "America/New_York", "Europe/Berlin"]) {
  test(`the date tests pass with TZ=${zone}`, () => {
    const args = bun
      ? ["test", "--timeout", "120000", "./tests/dates_test.ts"]
      : ["test", "-A", "--no-check", "tests/dates_test.ts"];
    const child = spawnSync(process.execPath, args, {
      cwd: root,
      env: { ...process.env, TZ: zone, NO_COLOR: "1" },
      encoding: "utf8",
      timeout: 120_000,
    });
    const output = `${child.stdout}${child.stderr}`;
    assert.equal(child.status, 0, output.slice(-3000));
    assert.match(output, bun ? /\b11 pass\b[\s\S]*\b0 fail\b/ : /ok \| 11 passed \| 0 failed/);
  });
}
