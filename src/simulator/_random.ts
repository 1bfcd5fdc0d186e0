/**
 * Deterministic hashing and pseudo-random numbers for the simulator: every generated value is a
 * pure function of (seed, table, index, salt), so records can be produced on demand.
 *
 * @module
 */

/** A 32-bit integer hash of up to four integers (murmur3-style finaliser). */
export function hash32(a: number, b = 0, c = 0, d = 0): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ d, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A float in [0, 1) from {@linkcode hash32}. */
export function hashFloat(a: number, b = 0, c = 0, d = 0): number {
  return hash32(a, b, c, d) / 4294967296;
}

/** A small seeded PRNG (mulberry32). */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)];
  }
  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let out = "";
    while (out.length < n) {
      out += (hash32(Math.floor(this.next() * 4294967296)) >>> 0).toString(16).padStart(8, "0");
    }
    return out.slice(0, n);
  }
  /** Shuffle a list in place (Fisher–Yates). */
  shuffle<T>(list: T[]): T[] {
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = list[i];
      list[i] = list[j];
      list[j] = tmp;
    }
    return list;
  }
}

/** Format 32 hex digits as a lowercase hyphenated GUID (version 4 layout). */
export function formatGuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${
    "89ab"[parseInt(hex[16], 16) & 3]
  }${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** 8 hex digits of a 32-bit number. */
export function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** An Act!-style date string: whole seconds, `+00:00`. */
export function actDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + "+00:00";
}
