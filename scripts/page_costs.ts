/**
 * Where the time of a first sync goes, per page: the simulator's time to build and send a page
 * (the request), parsing it, flattening it and writing it to SQLite through act-sync's own sink,
 * and the floor of the write: the same number of rows of the same width inserted through
 * `node:sqlite` with nothing else done. Each stage runs alone, one after the other (no overlap),
 * so the sum is what one thread needs per page; a plain client needs request + parse.
 *
 *   bun scripts/page_costs.ts [--rows 100000] [--batch 10000]
 *
 * Prints one JSON line: milliseconds per page for each stage.
 *
 * @module
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { parseListBytes } from "../src/act/response_body.ts";
import { openSqliteSink } from "../src/sink/sqlite.ts";
import { flattenForSink, shapeOf } from "../src/sync/relations.ts";
import { TABLES } from "../src/act/tables.ts";
import { startSimulator } from "../src/simulator/mod.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    rows: { type: "string", default: "100000" },
    batch: { type: "string", default: "10000" },
  },
});
const rows = Number(values.rows);
const batch = Number(values.batch);
const folder = join(tmpdir(), `act-sync-page-costs-${process.pid}`);
rmSync(folder, { recursive: true, force: true });

const running = await startSimulator({
  seed: 1,
  counts: {
    contacts: rows,
    companies: 0,
    opportunities: 0,
    activities: 0,
    products: 0,
    activity_types: 0,
  },
});
const total = { request: 0, parse: 0, flatten: 0, write: 0, insertFloor: 0 };
let pages = 0;
let width = 0;
try {
  const headers = { "Act-Database-Name": "ActDemo" };
  const auth = await fetch(`${running.url}/authorize`, {
    headers: { ...headers, Authorization: `Basic ${btoa("demo:demo")}` },
  });
  const token = (await auth.text()).trim();
  const sink = await openSqliteSink(join(folder, "act.db"));
  await sink.prepare("contacts", shapeOf(TABLES.contacts), new Date().toISOString());
  for (let skip = 0; skip < rows; skip += batch) {
    let t = performance.now();
    const response = await fetch(
      `${running.url}/api/contacts?$orderby=edited%20asc&$top=${batch}&$skip=${skip}`,
      { headers: { ...headers, Authorization: `Bearer ${token}` } },
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    total.request += performance.now() - t;
    t = performance.now();
    const page = parseListBytes(bytes, response.headers.get("content-type"));
    total.parse += performance.now() - t;
    t = performance.now();
    const flat = flattenForSink(TABLES.contacts, page.rows);
    total.flatten += performance.now() - t;
    width = Math.max(width, flat.types.size);
    t = performance.now();
    await sink.write("contacts", flat, new Date().toISOString());
    total.write += performance.now() - t;
    pages++;
  }
  await sink.close();

  // The floor: as many rows of as many values (text and integers) through one prepared INSERT.
  const db = new DatabaseSync(join(folder, "floor.db"));
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  const columns = Array.from({ length: width }, (_, i) => `c${i}`);
  db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, ${columns.join(", ")}, synced TEXT)`);
  const insert = db.prepare(
    `INSERT INTO t VALUES (${Array.from({ length: width + 2 }, () => "?").join(", ")})`,
  );
  const row: (string | number | null)[] = new Array(width + 2).fill(null);
  for (let c = 1; c <= width; c++) row[c] = c % 3 === 0 ? null : c % 3 === 1 ? `text ${c}` : c;
  row[width + 1] = new Date().toISOString();
  for (let p = 0; p < pages; p++) {
    const t = performance.now();
    db.exec("BEGIN");
    for (let i = 0; i < batch; i++) {
      row[0] = crypto.randomUUID();
      insert.run(...row);
    }
    db.exec("COMMIT");
    total.insertFloor += performance.now() - t;
  }
  db.close();
} finally {
  await running.close();
  rmSync(folder, { recursive: true, force: true });
}
const perPage = Object.fromEntries(
  Object.entries(total).map(([k, ms]) => [k, Math.round(ms / Math.max(1, pages))]),
);
console.log(JSON.stringify({ rows, batch, pages, columns: width, msPerPage: perPage }));
