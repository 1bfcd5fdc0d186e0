/**
 * node:test's `describe`, `test` and hooks for tests that may be skipped, so that the gate
 * (`npm test`, scripts/check.sh) can say what was skipped and why under both runtimes:
 *
 * - neither Deno's nor Bun's reporters show the reason of `{ skip: "reason" }`, so a skipped
 *   test's reason is appended to its name (`name # SKIP reason`; scripts/test_summary.ts reads it);
 * - Bun leaves the tests of a skipped `describe` out of its report and Deno counts the block as one
 *   test, so a skipped `describe` here runs its body and skips each of its tests instead (and none
 *   of its hooks run): both runtimes then report every skipped test.
 *
 * Give the reason as a string (`{ skip: "promtool not installed" }`), never `t.skip()` inside a
 * test: Deno reports such a test as passed. `describe` bodies must be synchronous.
 */
import process from "node:process";
import * as node from "node:test";

type TestFn = (t: node.TestContext) => void | Promise<void>;
type HookFn = () => void | Promise<void>;
interface Options {
  skip?: string | boolean;
  timeout?: number;
}

/** The reasons of the enclosing skipped `describe` blocks while their bodies run. */
const enclosing: string[] = [];

function reasonOf(options: Options | undefined): string | false {
  const own = options?.skip;
  if (typeof own === "string" && own !== "") return own;
  if (own) return "no reason given";
  return enclosing.at(-1) ?? false;
}

/** A group of tests; with `{ skip: reason }` each of its tests is skipped with that reason. */
export function describe(name: string, options: Options | (() => void), fn?: () => void): void {
  const body = typeof options === "function" ? options : fn!;
  const reason = reasonOf(typeof options === "function" ? undefined : options);
  const rest = typeof options === "function" ? {} : { ...options, skip: false };
  node.describe(name, rest, () => {
    if (reason) enclosing.push(reason);
    try {
      const result: unknown = body();
      if (result instanceof Promise) throw new TypeError(`describe("${name}") body must be sync`);
    } finally {
      if (reason) enclosing.pop();
    }
  });
}

/** One test; when skipped, its reason is appended to its name (`name # SKIP reason`). */
export function test(name: string, options: Options | TestFn, fn?: TestFn): void {
  const body = typeof options === "function" ? options : fn!;
  const reason = reasonOf(typeof options === "function" ? undefined : options);
  const rest = typeof options === "function" ? {} : options;
  if (reason) node.test(`${name} # SKIP ${reason}`, { ...rest, skip: reason }, body);
  else node.test(name, { ...rest, skip: false }, body);
}

/** `before`, not run inside a skipped `describe`. */
export function before(fn: HookFn): void {
  if (enclosing.length === 0) node.before(fn);
}

/** `after`, not run inside a skipped `describe`. */
export function after(fn: HookFn): void {
  if (enclosing.length === 0) node.after(fn);
}

/**
 * Why the PostgreSQL tests are skipped, or false when `ACT_SYNC_TEST_PG` names a server to test
 * against. The gate starts one when PostgreSQL is installed, or says why not in
 * `ACT_SYNC_TEST_PG_SKIP`.
 */
export function postgresSkip(): string | false {
  if (process.env.ACT_SYNC_TEST_PG) return false;
  return process.env.ACT_SYNC_TEST_PG_SKIP ||
    "ACT_SYNC_TEST_PG not set (npm test sets it when it can start PostgreSQL)";
}
