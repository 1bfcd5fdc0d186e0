import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { ConfigSchema, envName } from "../src/config/schema.ts";

// The user documentation against the code: docs/configuration.md's table against ConfigSchema
// (keys, defaults, ranges), every relative link and anchor of the docs, the README's length, and
// no commit hashes or history in the user docs. Each check is a pure function, tried here on a
// broken input too, so that it can fail.

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (path: string): string => readFileSync(join(root, path), "utf8");

/** The user docs: README.md and docs/*.md. */
const USER_DOCS = [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) =>
    `docs/${f}`
  ),
];
/** Every Markdown file whose links are checked. */
const ALL_DOCS = [...USER_DOCS, "CONTRIBUTING.md", "bench/HISTORY.md"];

/** The lines of `text` outside fenced code blocks, with their line numbers. */
function proseLines(text: string): { line: string; no: number }[] {
  const out: { line: string; no: number }[] = [];
  let fence = false;
  text.split("\n").forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    else if (!fence) out.push({ line, no: i + 1 });
  });
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

/** The anchors of a Markdown text's headings (a repeated one gets `-1`, `-2`, … as on GitHub). */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { line } of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/**
 * The relative links of `text` (a file at `path` under `base`) whose file or anchor does not
 * exist, as `path:line: target`. Links inside code are not links.
 */
function brokenLinks(
  path: string,
  text: string,
  readText: (path: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const { line, no } of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [file, anchor] = target.split("#", 2);
      const resolved = file === "" ? path : join(dirname(path), decodeURIComponent(file));
      const content = readText(resolved);
      if (content === undefined) {
        problems.push(`${path}:${no}: ${target}: no file ${resolved}`);
      } else if (anchor && resolved.endsWith(".md") && !anchorsOf(content).has(anchor)) {
        problems.push(`${path}:${no}: ${target}: no heading with anchor #${anchor} in ${resolved}`);
      }
    }
  }
  return problems;
}

/** A file's text under the repository root, or undefined when there is no such file. */
function readRepo(path: string): string | undefined {
  const full = join(root, path);
  if (!existsSync(full)) return undefined;
  try {
    return readFileSync(full, "utf8");
  } catch {
    return ""; // a folder: it exists
  }
}

/** The rows of the first Markdown table under `## heading`, as cells. */
function tableUnder(text: string, heading: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === `## ${heading}`);
  assert.ok(start >= 0, `no heading "## ${heading}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("## ")) break;
    if (!line.startsWith("|")) {
      if (rows.length > 0) break;
      continue;
    }
    const cells = line.trim().replace(/^\||\|$/g, "").split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows;
}

/** The code spans of a cell (`` `a` or `b` `` → a, b). */
function spans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
}

/** A config value as the table writes it: lists joined with commas, an empty list `[]`. */
function written(value: unknown): string {
  if (value === null) return `""`;
  if (Array.isArray(value)) return value.length === 0 ? "[]" : value.join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The least configuration the schema accepts; every other key takes its default. */
const REQUIRED_VALUES: Record<string, string> = {
  hostname: "act.example.com",
  username: "John Hollo",
  password: "secret",
  database_name: "ActDemo",
};

/** Parse as the program does (src/config/load.ts): each key stops at its first broken rule. */
const PARSE = { abortEarly: false, abortPipeEarly: true } as const;

/** A configuration: every key unset (undefined), but the required ones, then `values`. */
function configWith(values: Record<string, unknown> = {}): Record<string, unknown> {
  const unset = Object.fromEntries(
    Object.keys(ConfigSchema.entries).map((key) => [key, undefined]),
  );
  return { ...unset, ...REQUIRED_VALUES, ...values };
}

/** Whether the schema accepts `value` for `key` (the other keys at their minimum). */
function accepts(key: string, value: unknown): boolean {
  return v.safeParse(ConfigSchema, configWith({ [key]: value }), PARSE).success;
}

/**
 * What is wrong in a configuration table (`key | env var | default | range | meaning` rows)
 * against ConfigSchema: a key missing from the table or not in the schema, a wrong environment
 * variable, a default other than the schema's, a numeric range or a list of values the schema
 * does not enforce.
 */
function configTableProblems(rows: string[][]): string[] {
  const problems: string[] = [];
  const header = rows[0]?.map((c) => c.toLowerCase());
  assert.deepEqual(header, ["key", "env var", "default", "range", "meaning"]);
  const schemaKeys = Object.keys(ConfigSchema.entries);
  const defaults = v.parse(ConfigSchema, configWith(), PARSE) as Record<string, unknown>;
  const documented = new Set<string>();
  for (const [keyCell, envCell, defaultCell, rangeCell] of rows.slice(1)) {
    const key = spans(keyCell)[0] ?? keyCell;
    documented.add(key);
    if (!schemaKeys.includes(key)) {
      problems.push(`'${key}' is in the table but not in ConfigSchema`);
      continue;
    }
    if (spans(envCell)[0] !== envName(key)) {
      problems.push(`'${key}': env var is ${envCell}, expected \`${envName(key)}\``);
    }
    // The default: "required" when the schema has none and the key must be set, "—" when it
    // may be left out, else the schema's default as written.
    const required = !accepts(key, undefined);
    const expected = required ? "required" : defaults[key] === undefined ? "—" : undefined;
    if (expected !== undefined) {
      if (defaultCell !== expected) {
        problems.push(`'${key}': default is ${defaultCell}, the schema says ${expected}`);
      }
    } else if (spans(defaultCell)[0] !== written(defaults[key])) {
      problems.push(
        `'${key}': default is ${defaultCell}, the schema says \`${written(defaults[key])}\``,
      );
    }
    // A numeric range: both ends accepted, just outside them refused (and a fraction, for
    // integers).
    const range = /(integer )?(\d+(?:\.\d+)?)–(\d+(?:\.\d+)?)/.exec(rangeCell);
    if (range) {
      const [min, max] = [Number(range[2]), Number(range[3])];
      const step = range[1] ? 1 : (max - min) / 1000;
      for (const ok of [min, max]) {
        if (!accepts(key, ok)) problems.push(`'${key}': the schema refuses ${ok}`);
      }
      for (const bad of [min - step, max + step]) {
        if (accepts(key, bad)) problems.push(`'${key}': the schema accepts ${bad}`);
      }
      if (range[1] && accepts(key, min + 0.5)) {
        problems.push(`'${key}': the schema accepts ${min + 0.5}, not an integer`);
      }
    }
    if (/^one of /.test(rangeCell)) {
      for (const value of spans(rangeCell)) {
        if (!accepts(key, value)) problems.push(`'${key}': the schema refuses "${value}"`);
      }
      if (accepts(key, "no-such-value")) problems.push(`'${key}': the schema accepts any value`);
    }
  }
  for (const key of schemaKeys) {
    if (!documented.has(key)) problems.push(`'${key}' is in ConfigSchema but not in the table`);
  }
  return problems;
}

describe("docs/configuration.md", () => {
  const rows = tableUnder(read("docs/configuration.md"), "Keys");

  test("has one row per ConfigSchema key, with its env var, default and range", () => {
    assert.deepEqual(configTableProblems(rows), []);
  });

  test("the check finds a missing key, an unknown key, a wrong default and a wrong range", () => {
    const broken = rows.filter((row) => !row[0].includes("`protocol`")).map((row) => {
      if (row[0].includes("`batch_size`")) return [row[0], row[1], "`5000`", row[3], row[4]];
      if (row[0].includes("`max_retries`")) {
        return [row[0], row[1], row[2], "integer 0–200", row[4]];
      }
      if (row[0].includes("`log_format`")) return [row[0], row[1], row[2], "one of `xml`", row[4]];
      return row;
    });
    broken.push(["`no_such_key`", "`ACT_NO_SUCH_KEY`", "—", "text", "invented"]);
    const problems = configTableProblems(broken).join("\n");
    assert.match(problems, /'protocol' is in ConfigSchema but not in the table/);
    assert.match(problems, /'no_such_key' is in the table but not in ConfigSchema/);
    assert.match(problems, /'batch_size': default is `5000`, the schema says `10000`/);
    assert.match(problems, /'max_retries': the schema refuses 200/);
    assert.match(problems, /'log_format': the schema refuses "xml"/);
  });
});

describe("links", () => {
  test("every relative link of the docs names a file and a heading that exist", () => {
    const problems = ALL_DOCS.flatMap((path) => brokenLinks(path, read(path), readRepo));
    assert.deepEqual(problems, []);
  });

  test("the link check finds a missing file and a missing anchor, and skips code", () => {
    const files: Record<string, string> = {
      "docs/a.md": "# A page\n\n## Some `code` (here)\n",
    };
    const text = [
      "[ok](docs/a.md) [ok](docs/a.md#some-code-here) [ok](#top) [web](https://x.example/y)",
      "[gone](docs/b.md) [no anchor](docs/a.md#nowhere)",
      "`[code](not/a/link.md)`",
      "```",
      "[fenced](not/a/link.md)",
      "```",
      "# Top",
    ].join("\n");
    files["README.md"] = text;
    const problems = brokenLinks("README.md", text, (p) => files[p]);
    assert.deepEqual(problems, [
      "README.md:2: docs/b.md: no file docs/b.md",
      "README.md:2: docs/a.md#nowhere: no heading with anchor #nowhere in docs/a.md",
    ]);
  });

  test("slug() gives GitHub's anchors", () => {
    assert.equal(slug("Self-signed certificates (`ca_file`)"), "self-signed-certificates-ca_file");
    assert.equal(slug("configuration.json on Windows"), "configurationjson-on-windows");
    assert.equal(slug("Deletes: `act-sync reconcile`"), "deletes-act-sync-reconcile");
  });
});

/** Lines that name a commit or tell history, as `path:line: text`. */
function historyLines(path: string, text: string): string[] {
  const history = /\b(since then|issue \d+|\(issue|before the (change|fix)|the seed\b)/i;
  const commit = /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b/;
  return text.split("\n").flatMap((line, i) =>
    history.test(line) || commit.test(line) ? [`${path}:${i + 1}: ${line.trim()}`] : []
  );
}

describe("user docs", () => {
  test("README.md has at most 300 lines", () => {
    const lines = read("README.md").split("\n").length;
    assert.ok(lines <= 301, `README.md has ${lines - 1} lines`);
  });

  test("README.md and docs/ name no commit and tell no history", () => {
    assert.deepEqual(USER_DOCS.flatMap((path) => historyLines(path, read(path))), []);
  });

  test("historyLines() finds a commit hash and history words", () => {
    const text = "measured on 7bc4f84\nSince then it is faster\nfine: 2026-11-29, 10,000 rows";
    assert.deepEqual(historyLines("x.md", text), [
      "x.md:1: measured on 7bc4f84",
      "x.md:2: Since then it is faster",
    ]);
  });

  test("every doc page is linked from the README", () => {
    const readme = read("README.md");
    const pages = USER_DOCS.filter((p) => p.startsWith("docs/"));
    const unlinked = pages.filter((p) => !readme.includes(`](${p}`));
    assert.deepEqual(unlinked, [], `not linked from README.md: ${unlinked.join(", ")}`);
    assert.ok(pages.length >= 9, `docs/ has ${pages.length} pages`);
  });
});
