import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkLayout, importsOf, MAX_LINES } from "../scripts/check_layout.ts";
import { tempDir } from "./_helpers.ts";

/** A fake tree: path → text. */
function tree(files: Record<string, string>): string {
  const root = tempDir("act-sync-layout-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function problemsOf(files: Record<string, string>): string[] {
  const root = tree(files);
  try {
    return checkLayout(root).problems;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test("the repository's own layout has no problem", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  assert.deepEqual(checkLayout(root).problems, []);
});

test("a sound fake tree has no problem", () => {
  assert.deepEqual(
    problemsOf({
      "mod.ts": 'import { a } from "./src/b/mod.ts";\n',
      "src/b/mod.ts": 'import { c } from "../c/x.ts";\nimport { p } from "./_p.ts";\n',
      "src/b/_p.ts": "export const p = 1;\n",
      "src/c/x.ts": '/**\n * import { b } from "../b/mod.ts";\n */\nexport const c = 1;\n',
      "tests/x_test.ts": 'import { c } from "../src/c/x.ts";\nimport { h } from "./_h.ts";\n',
      "tests/_h.ts": "export const h = 1;\n",
    }),
    [],
  );
});

test("an import cycle between folders is found, with the imports that make it", () => {
  const problems = problemsOf({
    "src/a/x.ts": 'import { y } from "../b/y.ts";\n',
    "src/b/y.ts": 'export { z } from "../c/z.ts";\n',
    "src/c/z.ts": 'const m = await import("../a/x.ts");\n',
  });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^Import cycle between folders: src\/a, src\/b, src\/c \(/);
  assert.match(problems[0], /src\/c\/z\.ts imports "src\/a\/x\.ts"/);
});

test("a private file imported from another folder is found, also between tests/ and scripts/", () => {
  const problems = problemsOf({
    "src/a/x.ts": 'import { p } from "../b/_p.ts";\n',
    "src/b/_p.ts": "export const p = 1;\n",
    "scripts/s.ts": 'import { h } from "../tests/_h.ts";\n',
    "tests/_h.ts": "export const h = 1;\n",
  });
  assert.deepEqual(problems, [
    'Private file imported from another folder: scripts/s.ts imports "tests/_h.ts"',
    'Private file imported from another folder: src/a/x.ts imports "src/b/_p.ts"',
  ]);
});

test("src/ importing tests/ or scripts/ is found", () => {
  const problems = problemsOf({
    "src/a/x.ts":
      'import { h } from "../../tests/h.ts";\nimport { s } from "../../scripts/s.ts";\n',
    "tests/h.ts": "export const h = 1;\n",
    "scripts/s.ts": "export const s = 1;\n",
  });
  assert.deepEqual(problems, [
    'Source imports tests/: src/a/x.ts imports "tests/h.ts"',
    'Source imports scripts/: src/a/x.ts imports "scripts/s.ts"',
  ]);
});

test("a file over the line limit is found, the simulator's data tables excepted", () => {
  const long = "const x = 1;\n".repeat(MAX_LINES + 1);
  const problems = problemsOf({
    "src/a/long.ts": long,
    "src/a/ok.ts": "const x = 1;\n".repeat(MAX_LINES),
    "src/simulator/_data.ts": long,
  });
  assert.deepEqual(problems, [`Too long: src/a/long.ts has ${MAX_LINES + 1} lines (at most 700)`]);
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
