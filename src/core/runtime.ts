/**
 * The runtime underneath: which one this is (Deno or Bun, also inside a compiled binary), its
 * global object, garbage collection, and stop requests (SIGINT/SIGTERM, and Ctrl+C / Ctrl+Break —
 * SIGINT/SIGBREAK — on Windows). The one place that looks at `globalThis.Bun` or
 * `globalThis.Deno`.
 *
 * @module
 */
import process from "node:process";

/** `globalThis.Bun` typed as the part of it the caller needs, or undefined outside Bun. */
export function bunGlobal<T = unknown>(): T | undefined {
  return (globalThis as unknown as { Bun?: T }).Bun;
}

/** `globalThis.Deno` typed as the part of it the caller needs, or undefined outside Deno. */
export function denoGlobal<T = Partial<typeof Deno>>(): T | undefined {
  return (globalThis as unknown as { Deno?: T }).Deno;
}

/** The runtime this process runs on. */
export const RUNTIME: "bun" | "deno" | "other" = bunGlobal() !== undefined
  ? "bun"
  : denoGlobal() !== undefined
  ? "deno"
  : "other";

/**
 * Collect garbage now where the runtime allows it (Bun); a no-op elsewhere. Bun's collector runs
 * lazily, so a sync's resident memory grew with the size of its pages times a slack factor
 * (330 MB at 200k contacts in 5000-row pages); a full collection after each committed page, and
 * between the 1000-row chunks a page is written in, keeps it near one chunk's working set plus
 * the page's bytes (see `scripts/bench.ts` for the cost). Deno's V8 is left to collect on its own:
 * a full collection reached through `--expose_gc` costs ~30 ms a call there (200,000 contacts in
 * 10,000-row pages: 335 MB peak in 12 s without, 170 MB in 18 s with one per chunk).
 */
export function collectGarbage(): void {
  bunGlobal<{ gc(force: boolean): void }>()?.gc(true);
}

/**
 * Call `first` on the first stop signal and `second` on any later one (default: exit at once
 * with code 1); returns an unsubscribe.
 */
export function onStopSignal(
  first: () => void,
  second: () => void = () => process.exit(1),
): () => void {
  const signals = process.platform === "win32" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
  let count = 0;
  const listener = () => {
    if (++count > 1) second();
    else first();
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}
