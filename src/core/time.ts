/**
 * UTC time as text, the one formatting every layer uses: state file, OData filters, config
 * defaults and the status page.
 *
 * @module
 */

/**
 * Epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` only when not whole: the form of
 * the state file and of OData date-time literals (`2024-01-01T00:00:00Z`).
 *
 * @throws {RangeError} for a time outside what `Date` holds.
 */
export function formatUtc(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? iso.slice(0, -5) + "Z" : iso;
}

/** Epoch milliseconds for people: `YYYY-MM-DD HH:MM:SS UTC` (whole seconds). */
export function formatUtcForDisplay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}
