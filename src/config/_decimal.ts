/**
 * How a number may be written as text in the configuration (a string in the file, an `ACT_*`
 * variable, a flag): decimal digits with an optional sign, and for keys that take fractions, a
 * decimal point. What `Number()` reads besides (`0x10`, `1e3`, `Infinity`, `1_000`, blanks) is
 * refused, so that a value means what it reads as.
 *
 * @module
 */

/** Digits, an optional sign and an optional fraction (`0.25`, `.5`, `+2`, `1.`). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
/** Digits and an optional sign. */
const INTEGER = /^[+-]?\d+$/;

/**
 * The number `text` (trimmed) writes in decimal notation (`integer`: digits only), or undefined
 * when it is written any other way or is not finite.
 */
export function parseDecimal(text: string, integer = false): number | undefined {
  const trimmed = text.trim();
  if (!(integer ? INTEGER : DECIMAL).test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}
