/**
 * The "did you mean" of every message about an unknown name (a command, a flag, a config key, a
 * table): the known name nearest to what was typed.
 *
 * @module
 */

/**
 * The candidate nearest to `word` (Levenshtein distance, ignoring case), or undefined when none
 * is within `max(2, ⌊length / 3⌋)` edits of it.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { closest } from "./closest.ts";
 *
 * assert.equal(closest("contcts", ["contacts", "companies"]), "contacts");
 * assert.equal(closest("xyz", ["contacts", "companies"]), undefined);
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(w, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(w.length / 3)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
