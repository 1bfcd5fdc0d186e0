/**
 * Returning memory between pages. Bun's collector runs lazily, so a sync's resident memory grew
 * with the size of its pages times a slack factor (330 MB at 200k contacts in 5000-row pages);
 * a full collection after each committed page keeps it near one page's working set (166 MB)
 * at no measurable cost in rows/s. Deno's V8 collects eagerly enough on its own.
 *
 * @module
 */

interface BunGc {
  gc(force: boolean): void;
}

/** Collect garbage now where the runtime allows it (Bun); a no-op elsewhere. */
export function collectGarbage(): void {
  (globalThis as { Bun?: BunGc }).Bun?.gc(true);
}
