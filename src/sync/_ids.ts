/**
 * Id lists for reconcile, held compactly: sorted arrays of strings instead of Sets (a Set entry
 * costs about as much again as the string), compared by a merge and searched by bisection.
 * Order is JavaScript's string order (UTF-16 code units), the same for every list.
 *
 * @module
 */

/** Sort `ids` in place and drop repeated ids; returns the same array. */
export function sortUnique(ids: string[]): string[] {
  ids.sort();
  let kept = 0;
  for (let i = 0; i < ids.length; i++) {
    if (kept === 0 || ids[i] !== ids[kept - 1]) ids[kept++] = ids[i];
  }
  ids.length = kept;
  return ids;
}

/** Whether the sorted list holds `id`. */
export function hasId(sorted: readonly string[], id: string): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === id;
}

/** The ids of sorted list `a` that sorted list `b` lacks, in order. */
export function missingFrom(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = [];
  let j = 0;
  for (const id of a) {
    while (j < b.length && b[j] < id) j++;
    if (j >= b.length || b[j] !== id) out.push(id);
  }
  return out;
}

/** Whether two sorted lists hold the same ids. */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
