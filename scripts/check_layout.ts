/**
 * The layout rules, checked (a step of `npm test`, scripts/check.sh):
 *
 * 1. no import cycle between the folders of src/ (a file directly in src/ counts as folder `src`);
 * 2. a file whose name starts with `_` is imported only from its own folder;
 * 3. nothing in src/ imports from tests/ or scripts/;
 * 4. no source file (.ts in mod.ts, src/, tests/, scripts/) has more than 700 lines, the
 *    simulator's generated-data tables (src/simulator/_data.ts) excepted ({@linkcode LONG_FILES}).
 *
 * Only relative imports count (packages are outside the layout). Prints each problem and exits 1,
 * or prints the folder graph and exits 0.
 *
 *     deno run --allow-read scripts/check_layout.ts [ROOT]     # or: bun scripts/check_layout.ts
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The longest a source file may be, in lines. */
export const MAX_LINES = 700;

/** Files allowed to be longer, relative to the root with `/`. */
export const LONG_FILES: readonly string[] = [
  "src/simulator/_data.ts", // generated data tables
];

/** What {@linkcode checkLayout} found. */
export interface LayoutReport {
  /** The rule violations, one sentence each; empty when the layout is sound. */
  problems: string[];
  /** The folder graph of src/: `from → to` for each folder importing another. */
  edges: Map<string, Set<string>>;
  /** How many source files were read. */
  files: number;
}

const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm;
const DYNAMIC = /^(?!\s*(?:\*|\/\/)).*?\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function posix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir))) {
      const path = dir ? `${dir}/${entry}` : entry;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) files.push(path);
    }
  };
  for (const dir of ["src", "tests", "scripts"]) {
    if (existsSync(join(root, dir))) walk(dir);
  }
  if (existsSync(join(root, "mod.ts"))) files.push("mod.ts");
  return files.sort();
}

/** The relative import specifiers of a module's text (static, re-exports and dynamic). */
export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) found.push(m[1] ?? m[2]);
  for (const m of text.matchAll(DYNAMIC)) found.push(m[1]);
  return found.filter((s) => s.startsWith("./") || s.startsWith("../"));
}

/** The folder of src/ a file belongs to (`src/sync/engine.ts` → `sync`), or undefined. */
function srcFolder(path: string): string | undefined {
  if (!path.startsWith("src/")) return undefined;
  const parts = path.split("/");
  return parts.length > 2 ? parts[1] : "src";
}

/** The cycles of a graph: its strongly connected components with more than one node. */
export function cyclesOf(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
  const visit = (node: string) => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let top: string;
      do {
        top = stack.pop()!;
        onStack.delete(top);
        component.push(top);
      } while (top !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const node of [...nodes].sort()) if (!indices.has(node)) visit(node);
  return components;
}

/** Check the layout rules on the tree at `root`. */
export function checkLayout(root: string): LayoutReport {
  const problems: string[] = [];
  const edges = new Map<string, Set<string>>();
  const examples = new Map<string, string>();
  const files = sourceFiles(root);
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > MAX_LINES && !LONG_FILES.includes(file)) {
      problems.push(`Too long: ${file} has ${lines} lines (at most ${MAX_LINES})`);
    }
    for (const specifier of importsOf(text)) {
      const target = posix(relative(root, resolve(root, dirname(file), specifier)));
      const name = target.split("/").pop()!;
      if (name.startsWith("_") && dirname(target) !== dirname(file)) {
        problems.push(`Private file imported from another folder: ${file} imports "${target}"`);
      }
      if (file.startsWith("src/") && /^(tests|scripts)\//.test(target)) {
        problems.push(`Source imports ${target.split("/")[0]}/: ${file} imports "${target}"`);
      }
      const from = srcFolder(file);
      const to = srcFolder(target);
      if (from !== undefined && to !== undefined && from !== to) {
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
        const key = `${from} ${to}`;
        if (!examples.has(key)) examples.set(key, `${file} imports "${target}"`);
      }
    }
  }
  for (const cycle of cyclesOf(edges)) {
    const inside = [...examples].filter(([key]) => {
      const [from, to] = key.split(" ");
      return cycle.includes(from) && cycle.includes(to);
    }).map(([, example]) => example);
    problems.push(
      `Import cycle between folders: ${cycle.map((f) => `src/${f}`).join(", ")} (${
        inside.join("; ")
      })`,
    );
  }
  return { problems, edges, files: files.length };
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url)));
  const report = checkLayout(root);
  if (report.problems.length > 0) {
    for (const problem of report.problems) console.error(problem);
    console.error(`layout: ${report.problems.length} problem(s) in ${report.files} files`);
    process.exit(1);
  }
  for (const [from, to] of [...report.edges].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`src/${from} → ${[...to].sort().map((f) => `src/${f}`).join(", ")}`);
  }
  console.log(`layout: ${report.files} files, no cycle between folders, no problem`);
}
