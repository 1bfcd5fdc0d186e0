/**
 * The benchmark's "limit": a plain client that fetches the same pages act-sync would (same
 * `$top`), `JSON.parse`s each and throws the result away. Offset pages ordered by `edited`
 * until an empty page, like the Python connector act-sync replaces.
 *
 *   bun scripts/_plain_client.ts BASE_URL BATCH_SIZE [PAUSE_MS]
 *
 * With PAUSE_MS, request starts are at least that far apart (like act-sync's `rate_limit_pause`).
 *
 * Prints one JSON line: {"rows": N, "requests": N, "ms": N}.
 *
 * @module
 */
import process from "node:process";

const [base, batchText, pauseText] = process.argv.slice(2);
const batch = Number(batchText);
const pauseMs = Number(pauseText ?? 0);
let lastStart = -Infinity;
/** Wait until PAUSE_MS after the previous request's start. */
async function paced(): Promise<void> {
  const wait = lastStart + pauseMs - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  lastStart = performance.now();
}
const database = "ActDemo";
const started = performance.now();
await paced();
const auth = await fetch(`${base}/authorize`, {
  headers: {
    Authorization: `Basic ${btoa("demo:demo")}`,
    "Act-Database-Name": database,
  },
});
const token = (await auth.text()).trim();
let rows = 0;
let requests = 1;
for (let skip = 0; skip < 100_000_000; skip += batch) {
  await paced();
  const response = await fetch(
    `${base}/api/contacts?$orderby=edited%20asc&$top=${batch}&$skip=${skip}`,
    { headers: { Authorization: `Bearer ${token}`, "Act-Database-Name": database } },
  );
  requests++;
  if (!response.ok) throw new Error(`status ${response.status}`);
  const body = JSON.parse(await response.text());
  const page = Array.isArray(body) ? body : body.value;
  if (page.length === 0) break;
  rows += page.length;
}
console.log(JSON.stringify({ rows, requests, ms: Math.round(performance.now() - started) }));
