import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bunResults, denoResults, summarize } from "../scripts/test_summary.ts";

// Reports as Deno 2.9 and Bun 1.4 write them for the same file (abridged): top-level tests, a
// `describe` with a nested one, a skipped test and a skipped `describe` (via tests/_skip.ts).
const DENO = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="9" failures="1" errors="0" time="0.010">
    <testsuite name="./tests/a_test.ts" tests="4" disabled="1" errors="0" failures="1">
        <testcase name="plain" classname="./tests/a_test.ts" time="0.001" line="3" col="1">
        </testcase>
        <testcase name="needs x # SKIP x not installed" classname="./tests/a_test.ts" time="0.000">
            <skipped/>
        </testcase>
        <testcase name="grp" classname="./tests/a_test.ts" time="0.002" line="5" col="1">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="pg" classname="./tests/_skip.ts" time="0.001" line="38" col="8">
        </testcase>
    </testsuite>
    <testsuite name="ext:deno_node/testing.ts" tests="5" disabled="2" errors="0" failures="1">
        <testcase name="grp &gt; a &amp; b" classname="ext:deno_node/testing.ts" time="0.000">
        </testcase>
        <testcase name="grp &gt; inner" classname="ext:deno_node/testing.ts" time="0.001">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="grp &gt; inner &gt; c" classname="ext:deno_node/testing.ts" time="0.000">
            <failure message="Uncaught AssertionError: 1 !== 2
more">AssertionError</failure>
        </testcase>
        <testcase name="pg &gt; d # SKIP no server" classname="ext:deno_node/testing.ts" time="0">
            <skipped/>
        </testcase>
        <testcase name="pg &gt; e # SKIP no server" classname="ext:deno_node/testing.ts" time="0">
            <skipped/>
        </testcase>
    </testsuite>
</testsuites>`;

const BUN = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bun test" tests="7" assertions="0" failures="1" skipped="3" time="0.01">
  <testsuite name="tests/a_test.ts" file="tests/a_test.ts" tests="7" failures="1" skipped="3">
    <testcase name="plain" classname="" time="0.0006" file="tests/a_test.ts" line="3" />
    <testcase name="needs x # SKIP x not installed" classname="" time="0" file="tests/a_test.ts">
      <skipped />
    </testcase>
    <testsuite name="grp" file="tests/a_test.ts" line="5" tests="2" failures="1" skipped="0">
      <testcase name="a &amp; b" classname="grp" time="0" file="tests/a_test.ts" line="6" />
      <testsuite name="inner" file="tests/a_test.ts" line="7" tests="1" failures="1" skipped="0">
        <testcase name="c" classname="inner &gt; grp" time="0" file="tests/a_test.ts" line="8">
          <failure type="AssertionError" message="1 !== 2">AssertionError: 1 !== 2</failure>
        </testcase>
      </testsuite>
    </testsuite>
    <testsuite name="pg" file="tests/a_test.ts" line="10" tests="2" failures="0" skipped="2">
      <testcase name="d # SKIP no server" classname="pg" time="0" file="tests/a_test.ts" line="11">
        <skipped />
      </testcase>
      <testcase name="e # SKIP no server" classname="pg" time="0" file="tests/a_test.ts" line="12">
        <skipped />
      </testcase>
    </testsuite>
  </testsuite>
</testsuites>`;

function shape(results: ReturnType<typeof denoResults>): string[] {
  return results.map((r) => `${r.file}|${r.path.join(" > ")}|${r.status}|${r.detail}`).sort();
}

describe("scripts/test_summary.ts", () => {
  test("Deno's steps and Bun's nested suites give the same leaf tests", () => {
    // Deno names no file for a `describe`'s tests: summarize() takes Bun's.
    assert.deepEqual(shape(denoResults(DENO)), [
      "tests/a_test.ts|needs x|skipped|x not installed",
      "tests/a_test.ts|plain|passed|",
      "|grp > a & b|passed|",
      "|grp > inner > c|failed|Uncaught AssertionError: 1 !== 2",
      "|pg > d|skipped|no server",
      "|pg > e|skipped|no server",
    ]);
    const bun = bunResults(BUN);
    assert.deepEqual(shape(bun), [
      "tests/a_test.ts|grp > a & b|passed|",
      "tests/a_test.ts|grp > inner > c|failed|1 !== 2",
      "tests/a_test.ts|needs x|skipped|x not installed",
      "tests/a_test.ts|pg > d|skipped|no server",
      "tests/a_test.ts|pg > e|skipped|no server",
      "tests/a_test.ts|plain|passed|",
    ]);
  });

  test("summarize() ends with the summed counts, lists skips by reason and failures", () => {
    const summary = summarize([
      { name: "deno", xml: DENO, exitCode: 1 },
      { name: "bun", xml: BUN, exitCode: 1 },
    ]);
    assert.deepEqual(summary.lines, [
      "skipped: x not installed:",
      "  tests/a_test.ts: needs x",
      "skipped: no server:",
      "  tests/a_test.ts: pg > d",
      "  tests/a_test.ts: pg > e",
      "failed (deno): tests/a_test.ts: grp > inner > c: Uncaught AssertionError: 1 !== 2",
      "failed (bun): tests/a_test.ts: grp > inner > c: 1 !== 2",
      "deno: 2 passed, 1 failed, 3 skipped",
      "bun: 2 passed, 1 failed, 3 skipped",
      "distinct tests: 6 (the line below sums the runtimes: deno, bun)",
      "tests: 4 passed, 2 failed, 6 skipped",
    ]);
  });

  test("summarize() counts a test once in the distinct count, whichever runtimes ran it", () => {
    const plain = /<testcase name="plain"[^>]*\/>/;
    const fewer = summarize([
      { name: "deno", xml: DENO, exitCode: 1 },
      { name: "bun", xml: BUN.replace(plain, ""), exitCode: 1 },
    ]);
    assert.equal(
      fewer.lines.at(-2),
      "distinct tests: 6 (the line below sums the runtimes: deno, bun)",
    );
    const onlyBun = summarize([{ name: "bun", xml: BUN.replace(plain, ""), exitCode: 1 }]);
    assert.deepEqual(onlyBun.lines.slice(-3), [
      "bun: 1 passed, 1 failed, 3 skipped",
      "distinct tests: 5 (the line below sums the runtimes: bun)",
      "tests: 1 passed, 1 failed, 3 skipped",
    ]);
  });

  test("a runtime that ran no test fails the gate, even when it exits 0", () => {
    const empty = (name: string) =>
      `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${name} test" tests="0">\n</testsuites>`;
    const summary = summarize([
      { name: "deno", xml: empty("deno"), exitCode: 0 },
      { name: "bun", xml: empty("bun"), exitCode: 0 },
    ]);
    assert.deepEqual(summary.lines, [
      "failed (deno): deno test ran no test (exit code 0)",
      "failed (bun): bun test ran no test (exit code 0)",
      "deno: 0 passed, 1 failed, 0 skipped",
      "bun: 0 passed, 1 failed, 0 skipped",
      "distinct tests: 0 (the line below sums the runtimes: deno, bun)",
      "tests: 0 passed, 2 failed, 0 skipped",
    ]);
  });

  test("a failed hook, a crash outside tests, a missing report, a one-runtime test and a failed step all count as failed", () => {
    const hook = DENO.replace(
      /<testcase name="pg" classname="\.\/tests\/_skip\.ts"[^>]*>\s*<\/testcase>/,
      `<testcase name="pg" classname="x"><failure message="Uncaught Error: hook">x</failure></testcase>`,
    );
    const summary = summarize([
      { name: "deno", xml: hook, exitCode: 1 },
      { name: "bun", xml: BUN.replace(/<failure[^>]*>[^<]*<\/failure>/, ""), exitCode: 1 },
    ], ["deno lint"]);
    assert.deepEqual(summary.lines.slice(5), [
      "failed (deno): tests/a_test.ts: pg: outside its tests: Uncaught Error: hook",
      "failed (deno): tests/a_test.ts: grp > inner > c: Uncaught AssertionError: 1 !== 2",
      "failed (bun): bun test exited 1 though no test failed: an error outside any test (see its output above)",
      "deno: 2 passed, 2 failed, 3 skipped",
      "bun: 3 passed, 1 failed, 3 skipped",
      "failed steps (one failed test each): deno lint",
      "distinct tests: 6 (the line below sums the runtimes: deno, bun)",
      "tests: 5 passed, 4 failed, 6 skipped",
    ]);

    const missing = summarize([
      { name: "deno", xml: undefined, exitCode: 1 },
      { name: "bun", xml: BUN.replace(/<testcase name="plain"[^>]*\/>/, ""), exitCode: 1 },
    ]);
    assert.ok(missing.lines.includes("failed (deno): deno test wrote no report (exit code 1)"));
    assert.equal(missing.lines.at(-1), "tests: 1 passed, 2 failed, 3 skipped");

    const oneSided = summarize([
      { name: "deno", xml: DENO, exitCode: 1 },
      { name: "bun", xml: BUN.replace(/<testcase name="plain"[^>]*\/>/, ""), exitCode: 1 },
    ]);
    assert.ok(
      oneSided.lines.includes("failed (deno): reported by deno only: tests/a_test.ts: plain"),
    );
    assert.equal(oneSided.lines.at(-1), "tests: 3 passed, 3 failed, 6 skipped");
  });
});
