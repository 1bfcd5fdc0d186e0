/**
 * The layout rules, checked (a step of `npm test`, scripts/check.sh):
 *
 * 1. Imports point down. The folders of src/ are layers, declared once in
 *    {@linkcode LAYER_ORDER}, lowest first. A file may import a file of its own folder or of a
 *    lower layer, never of a higher one. Folders written on one rank with a comma (`sink, state`;
 *    `service, simulator`) are siblings: neither knows the other, so an import between them fails
 *    like an upward one (the service must not load the simulator, the sink must not read the state
 *    file). "Same layer" means the same folder. mod.ts at the root sits above every layer; tests/
 *    and scripts/ sit outside them and may import any layer.
 * 2. No import cycle between files, anywhere (src/, tests/, scripts/, mod.ts), type-only imports
 *    included. Rule 1 already rules out a cycle between folders; this one finds the cycles inside
 *    a folder.
 * 3. A folder's `mod.ts` is its face: a module doc and re-exports (`export … from`), nothing else;
 *    files of its own folder do not import it (they import the file that defines the name).
 * 4. A file whose name starts with `_` is imported only from its own folder.
 * 5. Nothing in src/ imports from tests/ or scripts/.
 * 6. A source file past {@linkcode REVIEW_LINES} lines is one to look at for a second job to split
 *    off. It passes only when it is in {@linkcode LONG_FILES} with the reason it stays whole; an
 *    entry whose file is gone or no longer that long is a problem too, so the list stays true.
 *
 * Only relative imports count (packages are outside the layout). Prints each problem and exits 1;
 * on success prints the layer order, the folder graph and the long files with their reasons.
 *
 *     deno run --allow-read scripts/check_layout.ts [ROOT]     # or: bun scripts/check_layout.ts
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The layers of src/, lowest first: `<` between ranks, `,` between siblings of one rank. */
export const LAYER_ORDER =
  "core < act < sink, state < sync < config < jobs < service, simulator < cli";

/** Past this many lines a source file is reviewed for a second job, unless it is in LONG_FILES. */
export const REVIEW_LINES = 400;

/** The source files allowed past {@linkcode REVIEW_LINES}, relative to the root, with why. */
export const LONG_FILES: Readonly<Record<string, string>> = {
  "src/simulator/_data.ts":
    "generated data: the word lists, then one row generator per table for every built-in table",
  "src/simulator/simulator.ts":
    "one job, answering the Act! Web API: login, the ten tables' routes, paging and OData " +
    "options, each switch's behaviour and the injected faults",
  "src/sync/engine.ts":
    "the loss-free incremental read, with its correctness argument (50 lines) beside the code " +
    "it argues for",
  "src/config/schema.ts":
    "the configuration's specification: one valibot pipe per key and the rules they share, read " +
    "as one table",
  "src/sync/reconcile.ts":
    "one flow, a table's reconcile: its scan (whole lists here, the id scan in id_scan.ts), " +
    "the comparison's outcome, the mass-delete guard and the lookup of missing rows",
  "src/sync/scan.ts":
    "the loss-free paging argument at its top and the four scans it argues for (window, tie " +
    "group, full read, whole list), which share its completeness rules",
  "src/service/monitor.ts":
    "one class, the service's live status and counters behind /metrics, and the 150 lines of " +
    "record types it serves",
  "src/sink/postgres.ts":
    "the PostgreSQL Sink: one class, plus the row encoding for json_to_recordset",
  "src/act/client.ts":
    "the one request path (token, retries, timeouts, rate-limit pauses) and the calls built on " +
    "it; its 120-line #call is due to become a pure classify() plus the loop",
  "src/sink/sqlite.ts": "the SQLite Sink: one class, plus its value conversion",
  "src/config/load.ts":
    "two halves, the pure merge of file, environment and flags (warnings, secrets) and reading " +
    "the file",
  "scripts/chaos.ts":
    "the fault-injection suite: the trial loop, the seeded fault plans, the row-by-row " +
    "comparison and the report",
  "scripts/bench.ts":
    "the benchmark: four measurements side by side and the report and chart it writes",
  "tests/config_test.ts": "the tests of the configuration: one per rule of each key (43)",
  "tests/simulator_test.ts": "the tests of the simulator: one per route, switch and fault (32)",
  "tests/server_test.ts":
    "the tests of the HTTP app and monitor: one per endpoint behaviour and metric (31)",
  "tests/service_test.ts": "the tests of service mode, each starting a service (13)",
  "tests/sync_test.ts":
    "the tests of the sync engine against the simulator, on SQLite and PostgreSQL (18)",
  "tests/client_test.ts": "the tests of the Act! client: one per retry, auth and body rule (32)",
  "tests/sink_postgres_test.ts": "the tests of the PostgreSQL sink against a real server (17)",
  "tests/reconcile_test.ts": "the tests of the id scan and the reconcile (11)",
};

/** One long file as the checker reports it. */
export interface LongFile {
  /** The file, relative to the root with `/`. */
  file: string;
  /** Its length in lines. */
  lines: number;
  /** Why it stays whole, from {@linkcode LONG_FILES}. */
  reason: string;
}

/** What {@linkcode checkLayout} found. */
export interface LayoutReport {
  /** The rule violations, one sentence each; empty when the layout is sound. */
  problems: string[];
  /** The folder graph of src/: `from → to` for each folder importing another. */
  edges: Map<string, Set<string>>;
  /** The files past {@linkcode REVIEW_LINES} that the allow-list lets pass. */
  long: LongFile[];
  /** How many source files were read. */
  files: number;
  /** The review threshold the report was made with. */
  reviewLines: number;
}

/** Options for {@linkcode checkLayout}; each defaults to the repository's own. */
export interface CheckLayoutOptions {
  /** The layer order. @default {LAYER_ORDER} */
  layers?: string;
  /** The review threshold in lines. @default {REVIEW_LINES} */
  reviewLines?: number;
  /** The allow-list of long files. @default {LONG_FILES} */
  longFiles?: Readonly<Record<string, string>>;
}

const IMPORT = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^import\s*["']([^"']+)["']/gm;
const DYNAMIC = /^(?!\s*(?:\*|\/\/)).*?\bimport\(\s*["']([^"']+)["']\s*\)/gm;
const RE_EXPORT =
  /^export\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s*["'][^"']+["'];?/gm;

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

/**
 * The rank of each folder in a layer order (`"a < b, c < d"` → a 0, b 1, c 1, d 2).
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLayers } from "./check_layout.ts";
 *
 * assert.deepEqual(parseLayers("core < sink, state < cli"), new Map([
 *   ["core", 0], ["sink", 1], ["state", 1], ["cli", 2],
 * ]));
 * ```
 */
export function parseLayers(order: string): Map<string, number> {
  const ranks = new Map<string, number>();
  order.split("<").forEach((rank, i) => {
    for (const name of rank.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (ranks.has(name)) throw new RangeError(`Folder named twice in the layer order: "${name}"`);
      ranks.set(name, i);
    }
  });
  return ranks;
}

/** The folder of src/ a file belongs to (`src/sync/engine.ts` → `sync`, `src/x.ts` → `src`). */
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

/** The shortest path from `start` back to itself through `within`, both ends included. */
function shortestLoop(
  start: string,
  edges: Map<string, Set<string>>,
  within: Set<string>,
): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const next of edges.get(queue[i]) ?? []) {
      if (!within.has(next)) continue;
      if (next === start) {
        const path = [start];
        for (let at: string | undefined = queue[i]; at !== undefined; at = parent.get(at)) {
          path.unshift(at);
        }
        return path;
      }
      if (!parent.has(next)) {
        parent.set(next, queue[i]);
        queue.push(next);
      }
    }
  }
  return [start];
}

/** The text of a module without its comments (string contents are left as they are). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Check the layout rules on the tree at `root`. */
export function checkLayout(root: string, options: CheckLayoutOptions = {}): LayoutReport {
  const ranks = parseLayers(options.layers ?? LAYER_ORDER);
  const reviewLines = options.reviewLines ?? REVIEW_LINES;
  const longFiles = options.longFiles ?? LONG_FILES;
  const problems: string[] = [];
  const edges = new Map<string, Set<string>>();
  const fileEdges = new Map<string, Set<string>>();
  const long: LongFile[] = [];
  const lengths = new Map<string, number>();
  const files = sourceFiles(root);
  const unlayered = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    lengths.set(file, lines);
    if (lines > reviewLines) {
      const reason = longFiles[file]?.trim();
      if (reason) long.push({ file, lines, reason });
      else {
        problems.push(
          `Long file: ${file} has ${lines} lines (review past ${reviewLines}): split off its ` +
            "second job, or add it to LONG_FILES with the reason it stays whole",
        );
      }
    }
    const from = srcFolder(file);
    if (from !== undefined && !ranks.has(from) && !unlayered.has(from)) {
      unlayered.add(from);
      problems.push(`Folder not in the layer order: src/${from} (add it to LAYER_ORDER)`);
    }
    if (from !== undefined && file === `src/${from}/mod.ts`) {
      const rest = withoutComments(text).replace(RE_EXPORT, "").trim();
      if (rest) {
        problems.push(
          `A folder's mod.ts holds only its doc and re-exports: ${file} has "${
            rest.split("\n")[0].trim()
          }"`,
        );
      }
    }
    for (const specifier of importsOf(text)) {
      const target = posix(relative(root, resolve(root, dirname(file), specifier)));
      if (!fileEdges.has(file)) fileEdges.set(file, new Set());
      fileEdges.get(file)!.add(target);
      const name = target.split("/").pop()!;
      if (name.startsWith("_") && dirname(target) !== dirname(file)) {
        problems.push(`Private file imported from another folder: ${file} imports "${target}"`);
      }
      if (file.startsWith("src/") && /^(tests|scripts)\//.test(target)) {
        problems.push(`Source imports ${target.split("/")[0]}/: ${file} imports "${target}"`);
      }
      const to = srcFolder(target);
      if (from !== undefined && to === from && target === `src/${from}/mod.ts`) {
        problems.push(
          `A file imports its own folder's mod.ts: ${file} imports "${target}" ` +
            "(import the file that defines the name)",
        );
      }
      if (from !== undefined && target === "mod.ts") {
        problems.push(`Import points up: ${file} imports "mod.ts" (the root is above every layer)`);
      }
      if (from === undefined || to === undefined || from === to) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
      const fromRank = ranks.get(from);
      const toRank = ranks.get(to);
      if (fromRank === undefined || toRank === undefined) continue;
      if (toRank > fromRank) {
        problems.push(`Import points up: ${file} imports "${target}" (${from} < ${to})`);
      } else if (toRank === fromRank) {
        problems.push(
          `Import between sibling layers: ${file} imports "${target}" (${from} and ${to} ` +
            "share a rank: neither may import the other)",
        );
      }
    }
  }
  for (const cycle of cyclesOf(fileEdges)) {
    const loop = shortestLoop(cycle[0], fileEdges, new Set(cycle));
    problems.push(
      `Import cycle between files: ${loop.join(" → ")}` +
        (cycle.length > loop.length - 1
          ? ` (${cycle.length} files in all: ${cycle.join(", ")})`
          : ""),
    );
  }
  for (const [file, reason] of Object.entries(longFiles)) {
    const lines = lengths.get(file);
    if (!reason.trim()) problems.push(`LONG_FILES entry without a reason: ${file}`);
    else if (lines === undefined) problems.push(`LONG_FILES names a missing file: ${file}`);
    else if (lines <= reviewLines) {
      problems.push(
        `LONG_FILES names a short file: ${file} has ${lines} lines (remove its entry)`,
      );
    }
  }
  long.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
  return { problems, edges, long, files: files.length, reviewLines };
}

/** The lines printed for a report: the layers, the folder graph, the allow-list. */
export function describeLayout(report: LayoutReport, layers: string = LAYER_ORDER): string[] {
  const out = [`layers: ${layers} < mod.ts`];
  for (const [from, to] of [...report.edges].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`  src/${from} → ${[...to].sort().map((f) => `src/${f}`).join(", ")}`);
  }
  out.push(`long files (past ${report.reviewLines} lines, allowed in LONG_FILES):`);
  const width = Math.max(0, ...report.long.map((l) => l.file.length));
  for (const { file, lines, reason } of report.long) {
    out.push(`  ${file.padEnd(width)} ${String(lines).padStart(4)}  ${reason}`);
  }
  return out;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? fileURLToPath(new URL("..", import.meta.url)));
  const report = checkLayout(root);
  console.log(describeLayout(report).join("\n"));
  if (report.problems.length > 0) {
    for (const problem of report.problems) console.error(problem);
    console.error(`layout: ${report.problems.length} problem(s) in ${report.files} files`);
    process.exit(1);
  }
  console.log(
    `layout: ${report.files} files, every import points down, no cycle between files, no problem`,
  );
}
