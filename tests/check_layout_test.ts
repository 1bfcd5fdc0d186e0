import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkLayout,
  type CheckLayoutOptions,
  describeLayout,
  importsOf,
  type LayoutReport,
  LONG_FILES,
  parseLayers,
} from "../scripts/check_layout.ts";
import { tempDir } from "./_helpers.ts";

/** The fake trees' options: three ranks (two siblings in the middle), 5 lines, no long file. */
const SMALL: CheckLayoutOptions = {
  layers: "low < left, right < top",
  reviewLines: 5,
  longFiles: {},
};

/** Check a fake tree (path → text) and remove it. */
function reportOf(
  files: Record<string, string>,
  options: CheckLayoutOptions = SMALL,
): LayoutReport {
  const root = tempDir("act-sync-layout-");
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return checkLayout(root, options);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function problemsOf(files: Record<string, string>, options?: CheckLayoutOptions): string[] {
  return reportOf(files, options).problems;
}

const lines = (n: number) => "const x = 1;\n".repeat(n);

test("the repository's own layout has no problem", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  assert.deepEqual(checkLayout(root).problems, []);
});

test("parseLayers() ranks the folders, siblings on one rank, and refuses a folder named twice", () => {
  assert.deepEqual(
    parseLayers("low < left, right < top"),
    new Map([["low", 0], ["left", 1], ["right", 1], ["top", 2]]),
  );
  assert.throws(() => parseLayers("a < b, a"), /Folder named twice in the layer order: "a"/);
});

test("a sound fake tree has no problem: imports down, inside a folder, from the root and tests", () => {
  assert.deepEqual(
    problemsOf({
      "mod.ts": 'import { t } from "./src/top/mod.ts";\n',
      "src/top/mod.ts": '/** Top. */\nexport { t } from "./t.ts";\nexport * from "./u.ts";\n',
      "src/top/t.ts": 'import { l } from "../left/l.ts";\nimport { u } from "./u.ts";\n',
      "src/top/u.ts": 'import { r } from "../right/mod.ts";\nimport { p } from "./_p.ts";\n',
      "src/top/_p.ts": 'import { w } from "../low/w.ts";\n',
      "src/left/l.ts": '/**\n * import { t } from "../top/t.ts";\n */\nexport const l = 1;\n',
      "src/right/mod.ts": "// Right.\nexport type { R } from './r.ts';\n",
      "src/right/r.ts": 'import type { W } from "../low/w.ts";\n',
      "src/low/w.ts": "export const w = 1;\n",
      "tests/x_test.ts": 'import { t } from "../src/top/t.ts";\nimport { h } from "./_h.ts";\n',
      "tests/_h.ts": 'import { w } from "../src/low/w.ts";\n',
      "scripts/s.ts": 'import { t } from "../src/top/mod.ts";\n',
    }),
    [],
  );
});

test("an import that points up fails, type-only and dynamic imports too", () => {
  assert.deepEqual(
    problemsOf({
      "src/low/w.ts": 'import type { L } from "../left/l.ts";\n',
      "src/left/l.ts": 'const t = await import("../top/t.ts");\n',
      "src/top/t.ts": "export const t = 1;\n",
    }),
    [
      'Import points up: src/left/l.ts imports "src/top/t.ts" (left < top)',
      'Import points up: src/low/w.ts imports "src/left/l.ts" (low < left)',
    ],
  );
});

test("an import between the siblings of one rank fails, both ways", () => {
  assert.deepEqual(
    problemsOf({
      "src/left/l.ts": 'import { r } from "../right/r.ts";\n',
      "src/right/r.ts": 'import { l } from "../left/other.ts";\n',
      "src/left/other.ts": "export const l = 1;\n",
    }),
    [
      'Import between sibling layers: src/left/l.ts imports "src/right/r.ts" (left and right ' +
      "share a rank: neither may import the other)",
      'Import between sibling layers: src/right/r.ts imports "src/left/other.ts" (right and ' +
      "left share a rank: neither may import the other)",
    ],
  );
});

test("a folder missing from the layer order fails, and src/ may not import the root mod.ts", () => {
  assert.deepEqual(
    problemsOf({
      "mod.ts": "export const m = 1;\n",
      "src/stray/s.ts": 'import { w } from "../low/w.ts";\n',
      "src/low/w.ts": 'import { m } from "../../mod.ts";\n',
    }),
    [
      'Import points up: src/low/w.ts imports "mod.ts" (the root is above every layer)',
      "Folder not in the layer order: src/stray (add it to LAYER_ORDER)",
    ],
  );
});

test("a cycle between the files of one folder is found, with its shortest loop", () => {
  assert.deepEqual(
    problemsOf({
      "src/top/a.ts": 'import { b } from "./b.ts";\n',
      "src/top/b.ts": 'import type { C } from "./c.ts";\nimport { a } from "./a.ts";\n',
      "src/top/c.ts": 'export { a } from "./a.ts";\n',
      "tests/x_test.ts": 'import { y } from "./y.ts";\n',
      "tests/y.ts": 'const x = await import("./x_test.ts");\n',
    }),
    [
      "Import cycle between files: src/top/a.ts → src/top/b.ts → src/top/a.ts (3 files in all: " +
      "src/top/a.ts, src/top/b.ts, src/top/c.ts)",
      "Import cycle between files: tests/x_test.ts → tests/y.ts → tests/x_test.ts",
    ],
  );
});

test("a folder's mod.ts holding code, or imported from its own folder, fails", () => {
  assert.deepEqual(
    problemsOf({
      "src/top/mod.ts": '/** Top. */\nexport { t } from "./t.ts";\nexport const extra = 1;\n',
      "src/top/t.ts": 'import { extra } from "./mod.ts";\n',
      "src/left/mod.ts": 'import { l } from "./l.ts";\nexport { l };\n',
      "src/left/l.ts": "export const l = 1;\n",
    }),
    [
      "A folder's mod.ts holds only its doc and re-exports: src/left/mod.ts has \"import { l } " +
      'from "./l.ts";"',
      "A folder's mod.ts holds only its doc and re-exports: src/top/mod.ts has \"export const " +
      'extra = 1;"',
      'A file imports its own folder\'s mod.ts: src/top/t.ts imports "src/top/mod.ts" (import ' +
      "the file that defines the name)",
      "Import cycle between files: src/top/mod.ts → src/top/t.ts → src/top/mod.ts",
    ],
  );
});

test("a private file imported from another folder is found, also between tests/ and scripts/", () => {
  assert.deepEqual(
    problemsOf({
      "src/top/x.ts": 'import { p } from "../low/_p.ts";\n',
      "src/low/_p.ts": "export const p = 1;\n",
      "scripts/s.ts": 'import { h } from "../tests/_h.ts";\n',
      "tests/_h.ts": "export const h = 1;\n",
    }),
    [
      'Private file imported from another folder: scripts/s.ts imports "tests/_h.ts"',
      'Private file imported from another folder: src/top/x.ts imports "src/low/_p.ts"',
    ],
  );
});

test("src/ importing tests/ or scripts/ is found", () => {
  assert.deepEqual(
    problemsOf({
      "src/low/x.ts":
        'import { h } from "../../tests/h.ts";\nimport { s } from "../../scripts/s.ts";\n',
      "tests/h.ts": "export const h = 1;\n",
      "scripts/s.ts": "export const s = 1;\n",
    }),
    [
      'Source imports tests/: src/low/x.ts imports "tests/h.ts"',
      'Source imports scripts/: src/low/x.ts imports "scripts/s.ts"',
    ],
  );
});

test("a file past the review threshold fails unless the allow-list gives its reason", () => {
  const report = reportOf({
    "src/low/long.ts": lines(6),
    "src/low/listed.ts": lines(7),
    "src/low/ok.ts": lines(5),
  }, { ...SMALL, longFiles: { "src/low/listed.ts": "one job: a table of data" } });
  assert.deepEqual(report.problems, [
    "Long file: src/low/long.ts has 6 lines (review past 5): split off its second job, or add " +
    "it to LONG_FILES with the reason it stays whole",
  ]);
  assert.deepEqual(report.long, [
    { file: "src/low/listed.ts", lines: 7, reason: "one job: a table of data" },
  ]);
});

test("an allow-list entry without a reason, for a missing file or for a short one fails", () => {
  assert.deepEqual(
    problemsOf({ "src/low/long.ts": lines(6), "src/low/short.ts": lines(5) }, {
      ...SMALL,
      longFiles: { "src/low/long.ts": " ", "src/low/gone.ts": "data", "src/low/short.ts": "data" },
    }),
    [
      "Long file: src/low/long.ts has 6 lines (review past 5): split off its second job, or add " +
      "it to LONG_FILES with the reason it stays whole",
      "LONG_FILES entry without a reason: src/low/long.ts",
      "LONG_FILES names a missing file: src/low/gone.ts",
      "LONG_FILES names a short file: src/low/short.ts has 5 lines (remove its entry)",
    ],
  );
});

test("the printed report names the layers, the folder graph and each long file with its reason", () => {
  const report = reportOf({
    "src/top/t.ts": 'import { l } from "../left/l.ts";\nimport { w } from "../low/w.ts";\n',
    "src/left/l.ts": 'import { w } from "../low/w.ts";\n' + lines(6),
    "src/low/w.ts": "export const w = 1;\n",
  }, { ...SMALL, longFiles: { "src/left/l.ts": "one job" } });
  assert.deepEqual(report.problems, []);
  assert.deepEqual(describeLayout(report, SMALL.layers), [
    "layers: low < left, right < top < mod.ts",
    "  src/left → src/low",
    "  src/top → src/left, src/low",
    "long files (past 5 lines, allowed in LONG_FILES):",
    "  src/left/l.ts    7  one job",
  ]);
});

test("every entry of the repository's allow-list states a reason", () => {
  for (const [file, reason] of Object.entries(LONG_FILES)) {
    assert.ok(reason.trim().length > 10, `${file}: "${reason}"`);
    assert.doesNotMatch(reason, /being split/, file);
  }
});

test("importsOf reads static, multi-line, re-export and dynamic imports, not doc examples", () => {
  const text = [
    "/**",
    ' * import { doc } from "./doc.ts";',
    " */",
    'import a from "./a.ts";',
    "import {",
    "  b,",
    '} from "../b.ts";',
    'import "./side.ts";',
    'export * from "./re.ts";',
    'import { pkg } from "hono";',
    'const d = await import("./dyn.ts");',
  ].join("\n");
  assert.deepEqual(importsOf(text), ["./a.ts", "../b.ts", "./side.ts", "./re.ts", "./dyn.ts"]);
});
