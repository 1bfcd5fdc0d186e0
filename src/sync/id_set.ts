/**
 * A set of ids held compactly, for comparing a table's complete id lists (reconcile): a
 * GUID-shaped id (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits all lower or all upper case,
 * as Act! writes its record ids) is kept as its 16 bytes in an open-addressing hash table (17
 * bytes a slot, 21 to 43 bytes an id), where a `Set<string>` holds a 36-character string and its
 * entry (about 120 bytes). Any other id (an integer, a GUID of mixed case, anything else) is kept as it is in
 * a `Set<string>`. An id reads back exactly as it was added: the case of a packed id is kept
 * beside its bytes, and ids differing only in case are different ids.
 *
 * @module
 */

/** The ids of `ids` that `other` lacks and `skip` (when given) does not skip. */
export function idsNotIn(
  ids: IdList,
  other: IdList,
  skip?: (id: string) => boolean,
): string[] {
  if (ids instanceof IdSet) return ids.notIn(other, skip);
  const out: string[] = [];
  for (const id of ids) if (!other.has(id) && !skip?.(id)) out.push(id);
  return out;
}

/** What reconcile needs of an id list: its size, membership, and every id once. */
export interface IdList extends Iterable<string> {
  readonly size: number;
  has(id: string): boolean;
}

const EMPTY = 0;
const LOWER = 1;
const UPPER = 2;
/** The case bits of a slot's tag; the bit above them marks the id ({@linkcode IdSet.mark}). */
const CASE = 3;
const MARKED = 4;
const HEX = "0123456789abcdef";
const HEX_UPPER = "0123456789ABCDEF";
const MIN_CAPACITY = 1024;
/** The table grows (doubles) past this share of its slots in use. */
const MAX_LOAD = 0.8;

/** The value of a hex digit's char code, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** A set of ids, GUID-shaped ones packed (see the module comment). */
export class IdSet implements IdList {
  #words: Uint32Array;
  #tags: Uint8Array;
  #packed = 0;
  #other = new Set<string>();
  #otherMarked = new Set<string>();
  #scratch = new Uint32Array(4);

  /** `expected`: about how many ids will be added (the table starts large enough for them). */
  constructor(expected = 0) {
    const capacity = Math.max(MIN_CAPACITY, Math.ceil((expected + 1) / MAX_LOAD) + 1);
    this.#words = new Uint32Array(capacity * 4);
    this.#tags = new Uint8Array(capacity);
  }

  get size(): number {
    return this.#packed + this.#other.size;
  }

  /** Add `id`; false when it was already there. */
  add(id: string): boolean {
    const tag = this.#pack(id);
    if (tag === EMPTY) {
      if (this.#other.has(id)) return false;
      this.#other.add(id);
      return true;
    }
    const slot = this.#find(this.#scratch, 0, tag);
    if (this.#tags[slot] !== EMPTY) return false;
    this.#put(slot, this.#scratch, 0, tag);
    this.#packed++;
    if (this.#packed > this.#tags.length * MAX_LOAD) this.#grow();
    return true;
  }

  has(id: string): boolean {
    const tag = this.#pack(id);
    if (tag === EMPTY) return this.#other.has(id);
    return this.#tags[this.#find(this.#scratch, 0, tag)] !== EMPTY;
  }

  /**
   * The ids of this set that `other` lacks, for which `skip` (when given) is false, in no
   * particular order. A packed id is compared as its bytes: only the ids returned are made
   * strings again (a million ids read back as strings would be a hundred megabytes of garbage).
   */
  notIn(other: IdList, skip?: (id: string) => boolean): string[] {
    const out: string[] = [];
    const words = this.#words;
    const tags = this.#tags;
    const packed = other instanceof IdSet ? other : null;
    for (let slot = 0; slot < tags.length; slot++) {
      const tag = tags[slot] & CASE;
      if (tag === EMPTY) continue;
      if (packed !== null && packed.#tags[packed.#find(words, slot * 4, tag)] !== EMPTY) continue;
      const id = unpack(words, slot * 4, tag === UPPER ? HEX_UPPER : HEX);
      if (packed === null && other.has(id)) continue;
      if (!skip?.(id)) out.push(id);
    }
    for (const id of this.#other) if (!other.has(id) && !skip?.(id)) out.push(id);
    return out;
  }

  /** Every id once, in no particular order. */
  *[Symbol.iterator](): Iterator<string> {
    const words = this.#words;
    const tags = this.#tags;
    for (let slot = 0; slot < tags.length; slot++) {
      if (tags[slot] === EMPTY) continue;
      yield unpack(words, slot * 4, (tags[slot] & CASE) === UPPER ? HEX_UPPER : HEX);
    }
    yield* this.#other;
  }

  /** Mark `id` (see {@linkcode unmarked}); false when the set does not hold it. */
  mark(id: string): boolean {
    const tag = this.#pack(id);
    if (tag === EMPTY) {
      if (!this.#other.has(id)) return false;
      this.#otherMarked.add(id);
      return true;
    }
    const slot = this.#find(this.#scratch, 0, tag);
    if (this.#tags[slot] === EMPTY) return false;
    this.#tags[slot] |= MARKED;
    return true;
  }

  /** The ids not marked, for which `skip` (when given) is false, in no particular order. */
  unmarked(skip?: (id: string) => boolean): string[] {
    const out: string[] = [];
    const tags = this.#tags;
    for (let slot = 0; slot < tags.length; slot++) {
      const tag = tags[slot];
      if (tag === EMPTY || (tag & MARKED) !== 0) continue;
      const id = unpack(this.#words, slot * 4, tag === UPPER ? HEX_UPPER : HEX);
      if (!skip?.(id)) out.push(id);
    }
    for (const id of this.#other) {
      if (!this.#otherMarked.has(id) && !skip?.(id)) out.push(id);
    }
    return out;
  }

  /** Pack a GUID-shaped id into the scratch words; its case tag, or EMPTY for any other id. */
  #pack(id: string): number {
    if (id.length !== 36) return EMPTY;
    const out = this.#scratch;
    let cases = 0;
    let word = 0;
    let digits = 0;
    for (let i = 0; i < 36; i++) {
      const code = id.charCodeAt(i);
      if (i === 8 || i === 13 || i === 18 || i === 23) {
        if (code !== 45) return EMPTY; // '-'
        continue;
      }
      const digit = hexDigit(code);
      if (digit < 0) return EMPTY;
      if (code >= 97) cases |= LOWER;
      else if (code >= 65) cases |= UPPER;
      word = (word << 4) | digit;
      if (++digits % 8 === 0) {
        out[digits / 8 - 1] = word >>> 0;
        word = 0;
      }
    }
    if (cases === (LOWER | UPPER)) return EMPTY; // mixed case: kept as it is
    return cases === UPPER ? UPPER : LOWER;
  }

  /** The slot holding the 4 words of `key` at `k` and `tag`, or the empty slot where they belong. */
  #find(key: Uint32Array, k: number, tag: number): number {
    const words = this.#words;
    const tags = this.#tags;
    const capacity = tags.length;
    const k0 = key[k], k1 = key[k + 1], k2 = key[k + 2], k3 = key[k + 3];
    let h = Math.imul(k0 ^ Math.imul(k1, 0x9e3779b1), 0x85ebca77) ^
      Math.imul(k2 ^ Math.imul(k3, 0xc2b2ae3d), 0x27d4eb2f) ^ tag;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    for (let slot = (h >>> 0) % capacity;; slot = slot + 1 === capacity ? 0 : slot + 1) {
      const t = tags[slot] & CASE;
      if (t === EMPTY) return slot;
      const at = slot * 4;
      if (
        t === tag && words[at] === k0 && words[at + 1] === k1 && words[at + 2] === k2 &&
        words[at + 3] === k3
      ) return slot;
    }
  }

  #put(slot: number, key: Uint32Array, k: number, tag: number): void {
    const at = slot * 4;
    this.#words[at] = key[k];
    this.#words[at + 1] = key[k + 1];
    this.#words[at + 2] = key[k + 2];
    this.#words[at + 3] = key[k + 3];
    this.#tags[slot] = tag;
  }

  #grow(): void {
    const words = this.#words;
    const tags = this.#tags;
    this.#words = new Uint32Array(words.length * 2);
    this.#tags = new Uint8Array(tags.length * 2);
    for (let slot = 0; slot < tags.length; slot++) {
      if (tags[slot] === EMPTY) continue;
      const slotTo = this.#find(words, slot * 4, tags[slot] & CASE);
      this.#put(slotTo, words, slot * 4, tags[slot]); // the mark kept
    }
  }
}

/** The GUID text of the 4 words at `at`, in the case of `digits`. */
function unpack(words: Uint32Array, at: number, digits: string): string {
  let text = "";
  for (let w = 0; w < 4; w++) {
    const word = words[at + w];
    for (let shift = 28; shift >= 0; shift -= 4) {
      const n = w * 8 + (28 - shift) / 4;
      if (n === 8 || n === 12 || n === 16 || n === 20) text += "-";
      text += digits[(word >>> shift) & 15];
    }
  }
  return text;
}
