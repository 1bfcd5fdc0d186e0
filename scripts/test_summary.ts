/**
 * The end of the gate (`npm test`, scripts/check.sh): read the JUnit reports of `deno test` and
 * `bun test`, count the same unit for both (leaf tests: a test or `describe` with no test inside),
 * list the skipped tests with their reasons and the failed ones, and end with one line
 * `tests: N passed, N failed, N skipped` (summed over both runtimes; per runtime above it).
 *
 *     deno run --allow-read scripts/test_summary.ts --deno deno.xml --deno-exit 0 \
 *       --bun bun.xml --bun-exit 0 [--failed-step "deno lint"]…
 *
 * Deno reports a `describe`'s tests as steps named `outer > inner > test` (in a suite of their own,
 * not their file's) and counts only top-level tests in its summary; Bun nests suites and reports
 * each test. Reasons come from the test names (`name # SKIP reason`, see tests/_skip.ts): neither
 * runtime reports them. Counted as failed besides failed tests: a runtime that exits non-zero
 * though its report shows no failed test (an error outside any test), a missing report, a report
 * with no test in it, a test reported by one runtime only, and each failed gate step. Above the
 * summed line, the number of distinct tests (each counted once, whichever runtimes ran it). Exits 1
 * when anything failed.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";

/** One leaf test as a runtime reported it. */
export interface TestResult {
  /** The test file (`tests/x_test.ts`), or "" when the report does not say. */
  file: string;
  /** The names from the outermost `describe` to the test, without the skip reason. */
  path: string[];
  status: "passed" | "failed" | "skipped";
  /** Why it was skipped, or the first line of the failure. */
  detail: string;
  /** A `describe` that failed outside its tests (a hook): not a test the other runtime reports. */
  outside?: boolean;
}

const SKIP_TAG = " # SKIP ";

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|lt|gt|amp|quot|apos);/gi, (_, e: string) => {
    if (e[0] === "#") {
      return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    }
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}

function attributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]] = decode(m[2]);
  return out;
}

interface Case {
  suites: Record<string, string>[];
  attrs: Record<string, string>;
  status: TestResult["status"];
  message: string;
}

/** The testcases of a JUnit document with their enclosing suites (outermost first). */
function cases(xml: string): Case[] {
  const out: Case[] = [];
  const suites: Record<string, string>[] = [];
  let current: Case | undefined;
  const body = xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, "");
  for (
    const m of body.matchAll(
      /<(\/?)(testsuites|testsuite|testcase|skipped|failure|error)\b([^>]*?)(\/?)>/g,
    )
  ) {
    const [, close, tag, attrText, selfClose] = m;
    if (tag === "testsuite") {
      if (close) suites.pop();
      else if (!selfClose) suites.push(attributes(attrText));
    } else if (tag === "testcase") {
      if (close) {
        if (current) out.push(current);
        current = undefined;
      } else {
        const c: Case = {
          suites: [...suites],
          attrs: attributes(attrText),
          status: "passed",
          message: "",
        };
        if (selfClose) out.push(c);
        else current = c;
      }
    } else if (current && !close) {
      if (tag === "skipped") current.status = current.status === "failed" ? "failed" : "skipped";
      else {
        current.status = "failed";
        current.message ||= (attributes(attrText).message ?? "").split("\n")[0];
      }
    }
  }
  return out;
}

function result(file: string, names: string[], c: Case): TestResult {
  const path = [...names];
  let detail = c.message;
  const last = path.at(-1) ?? "";
  const tag = last.indexOf(SKIP_TAG);
  if (tag >= 0) {
    path[path.length - 1] = last.slice(0, tag);
    if (c.status === "skipped") detail = last.slice(tag + SKIP_TAG.length);
  }
  if (c.status === "skipped" && !detail) {
    detail = "no reason given (declare it with tests/_skip.ts)";
  }
  return { file: file.replace(/^\.\//, ""), path, status: c.status, detail };
}

/**
 * The leaf tests of `deno test --junit-path`: every testcase whose name is no other's prefix
 * (`a > b` is inside `a`), plus a failed `describe` none of whose tests failed (a failed hook).
 */
export function denoResults(xml: string): TestResult[] {
  const all = cases(xml);
  const names = all.map((c) => c.attrs.name ?? "");
  const parents = new Set<string>();
  for (const name of names) {
    const parts = name.split(" > ");
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join(" > "));
  }
  const failedLeaves = all.filter((c, i) => c.status === "failed" && !parents.has(names[i]));
  const out: TestResult[] = [];
  all.forEach((c, i) => {
    const name = names[i];
    const file = /_test\.[jt]s$/.test(c.suites[0]?.name ?? "") ? c.suites[0].name : "";
    if (!parents.has(name)) out.push(result(file, name.split(" > "), c));
    else if (
      c.status === "failed" &&
      !failedLeaves.some((l) => (l.attrs.name ?? "").startsWith(`${name} > `))
    ) {
      out.push({
        ...result(file, name.split(" > "), c),
        detail: `outside its tests: ${c.message}`,
        outside: true,
      });
    }
  });
  return out;
}

/** The tests of `bun test --reporter=junit`: each testcase, under its file's nested suites. */
export function bunResults(xml: string): TestResult[] {
  return cases(xml).map((c) => {
    // The outermost suite is the file, the others are `describe` blocks.
    const [file, ...groups] = c.suites;
    return result(file?.name ?? "", [...groups.map((s) => s.name), c.attrs.name ?? ""], c);
  });
}

/** What one runtime ran, from its report and exit code. */
export interface RuntimeRun {
  name: string;
  /** The report's text, or undefined when it was not written. */
  xml: string | undefined;
  exitCode: number;
}

/** The counts and the lines the gate prints. */
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  lines: string[];
}

function label(r: TestResult): string {
  return `${r.file || "?"}: ${r.path.join(" > ")}`;
}

/** Compare and count the runtimes' results; the last line is the gate's verdict. */
export function summarize(runs: RuntimeRun[], failedSteps: string[] = []): Summary {
  const lines: string[] = [];
  const results = runs.map((run) => {
    if (run.xml === undefined) return [];
    return run.name === "deno" ? denoResults(run.xml) : bunResults(run.xml);
  });
  // Deno cannot name the file of a test declared through a helper: take Bun's.
  const files = new Map<string, string>();
  for (const list of results) {
    for (const r of list) if (r.file) files.set(r.path.join(" > "), r.file);
  }
  for (const list of results) {
    for (const r of list) r.file ||= files.get(r.path.join(" > ")) ?? "";
  }

  // Skipped tests, grouped by reason, each once with the runtimes that skipped it.
  const skips = new Map<string, Map<string, string[]>>();
  runs.forEach((run, i) => {
    for (const r of results[i].filter((r) => r.status === "skipped")) {
      const byTest = skips.get(r.detail) ?? new Map<string, string[]>();
      skips.set(r.detail, byTest);
      byTest.set(label(r), [...(byTest.get(label(r)) ?? []), run.name]);
    }
  });
  const all = runs.map((r) => r.name).join(", ");
  for (const [reason, byTest] of skips) {
    lines.push(`skipped: ${reason}:`);
    for (const [test, names] of byTest) {
      lines.push(`  ${test}${names.join(", ") === all ? "" : ` (${names.join(", ")})`}`);
    }
  }

  const extra = runs.map(() => 0);
  runs.forEach((run, i) => {
    for (const r of results[i].filter((r) => r.status === "failed")) {
      lines.push(`failed (${run.name}): ${label(r)}${r.detail ? `: ${r.detail}` : ""}`);
    }
    if (run.xml === undefined) {
      lines.push(
        `failed (${run.name}): ${run.name} test wrote no report (exit code ${run.exitCode})`,
      );
      extra[i]++;
    } else if (results[i].length === 0) {
      lines.push(`failed (${run.name}): ${run.name} test ran no test (exit code ${run.exitCode})`);
      extra[i]++;
    } else if (run.exitCode !== 0 && !results[i].some((r) => r.status === "failed")) {
      lines.push(
        `failed (${run.name}): ${run.name} test exited ${run.exitCode} though no test failed: ` +
          "an error outside any test (see its output above)",
      );
      extra[i]++;
    }
  });

  // Every test runs under every runtime (or is skipped there with a reason).
  const counts = results.map((list) => {
    const m = new Map<string, number>();
    for (const r of list.filter((r) => !r.outside)) m.set(label(r), (m.get(label(r)) ?? 0) + 1);
    return m;
  });
  if (runs.every((run) => run.xml !== undefined)) {
    runs.forEach((run, i) => {
      for (const [test, n] of counts[i]) {
        const missing = counts.filter((other) => (other.get(test) ?? 0) < n).length;
        if (missing > 0) {
          lines.push(`failed (${run.name}): reported by ${run.name} only: ${test}`);
          extra[i]++;
        }
      }
    });
  }

  let passed = 0, failed = 0, skipped = 0;
  runs.forEach((run, i) => {
    const p = results[i].filter((r) => r.status === "passed").length;
    const f = results[i].filter((r) => r.status === "failed").length + extra[i];
    const s = results[i].filter((r) => r.status === "skipped").length;
    lines.push(`${run.name}: ${p} passed, ${f} failed, ${s} skipped`);
    passed += p;
    failed += f;
    skipped += s;
  });
  if (failedSteps.length > 0) {
    lines.push(`failed steps (one failed test each): ${failedSteps.join(", ")}`);
    failed += failedSteps.length;
  }
  const distinct = new Set(counts.flatMap((m) => [...m.keys()])).size;
  lines.push(`distinct tests: ${distinct} (the line below sums the runtimes: ${all})`);
  lines.push(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return { passed, failed, skipped, lines };
}

function readReport(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function main(): number {
  const { values } = parseArgs({
    options: {
      "deno": { type: "string" },
      "deno-exit": { type: "string", default: "0" },
      "bun": { type: "string" },
      "bun-exit": { type: "string", default: "0" },
      "failed-step": { type: "string", multiple: true, default: [] },
    },
  });
  const summary = summarize([
    { name: "deno", xml: readReport(values.deno), exitCode: Number(values["deno-exit"]) },
    { name: "bun", xml: readReport(values.bun), exitCode: Number(values["bun-exit"]) },
  ], values["failed-step"]);
  console.log(summary.lines.join("\n"));
  return summary.failed > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(main());
