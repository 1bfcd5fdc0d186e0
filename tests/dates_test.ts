// Date-time handling that must not depend on the host's time zone. tests/timezones_test.ts runs
// this file again under TZ=America/New_York and TZ=Europe/Berlin (and UTC), in both runtimes.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { startSimulator } from "../src/simulator/mod.ts";
import { readState } from "../src/state/mod.ts";
import { flattenPage, normalizeDateTime, parseDateTime } from "../src/sync/flatten.ts";
import { parseHttpDate, utcMs } from "../src/core/time.ts";
import { parseRetryAfter } from "../src/act/retry.ts";
import { isoDate } from "../src/config/schema.ts";
import type { DateShape } from "../src/simulator/mod.ts";
import { assertMirrors, simulatorClient, sqliteRows, syncOnce, tempDir } from "./_helpers.ts";

const dir = tempDir("act-sync-dates-");
after(() => rmSync(dir, { recursive: true, force: true }));

test("normalizeDateTime() turns any offset into UTC ending in Z", () => {
  assert.equal(normalizeDateTime("2023-08-17T15:50:18+00:00"), "2023-08-17T15:50:18Z");
  assert.equal(normalizeDateTime("2023-08-17T15:50:18+02:00"), "2023-08-17T13:50:18Z");
  assert.equal(normalizeDateTime("2023-08-17T15:50:18.250-0130"), "2023-08-17T17:20:18.250Z");
  assert.equal(normalizeDateTime("9999-12-31T00:00:00+00:00"), "9999-12-31T00:00:00Z");
  assert.equal(normalizeDateTime("2023-08-17"), null);
  assert.equal(normalizeDateTime("1500"), null);
  assert.equal(normalizeDateTime("not 2023-08-17T15:50:18Z"), null);
});

test("normalizeDateTime() reads a date-time without an offset as UTC", () => {
  assert.equal(normalizeDateTime("2024-06-01T00:00:03"), "2024-06-01T00:00:03Z");
  assert.equal(normalizeDateTime("2024-01-15T23:30"), "2024-01-15T23:30:00Z");
  assert.equal(normalizeDateTime("0050-03-01T00:00:00"), "0050-03-01T00:00:00Z");
});

test("normalizeDateTime() keeps fractions as given and leaves invalid dates alone", () => {
  assert.equal(
    normalizeDateTime("2024-06-01T02:00:03.1234567+02:00"),
    "2024-06-01T00:00:03.1234567Z",
  );
  assert.equal(normalizeDateTime("2024-06-01T00:00:03.000"), "2024-06-01T00:00:03.000Z");
  for (
    const bad of [
      "2023-02-30T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-13-01T00:00:00Z",
      "2024-06-01T24:00:00Z",
      "2024-06-01T23:60:00Z",
      "2024-06-01T23:00:61Z",
    ]
  ) {
    assert.equal(normalizeDateTime(bad), null, bad);
  }
  assert.equal(normalizeDateTime("2024-02-29T00:00:00Z"), "2024-02-29T00:00:00Z");
  const page = flattenPage([{
    id: "a",
    bad: "2023-02-30T00:00:00Z",
    net: "2024-06-01T00:00:03.1234567",
  }]);
  assert.equal(page.rows[0].bad, "2023-02-30T00:00:00Z");
  assert.equal(page.types.get("bad"), "text");
  assert.equal(page.rows[0].net, "2024-06-01T00:00:03.1234567Z");
});

test("parseDateTime() reads a date-time without an offset as UTC on any host", () => {
  assert.equal(parseDateTime("2024-06-01T00:00:03"), Date.UTC(2024, 5, 1, 0, 0, 3));
  assert.equal(parseDateTime("2024-06-01T00:00:03.5"), Date.UTC(2024, 5, 1, 0, 0, 3, 500));
  assert.equal(parseDateTime("2024-06-01T02:00:03+02:00"), Date.UTC(2024, 5, 1, 0, 0, 3));
  assert.equal(parseDateTime("2023-02-30T00:00:00Z"), null);
});

test("every shape of date-time without an offset is UTC; other shapes are refused", () => {
  const noon = Date.UTC(2026, 11, 1, 12, 0, 0);
  const shapes: Record<string, number> = {
    "2026-12-01 12:00:00": noon,
    "2026-12-01 12:00": noon,
    "2026-12-01t12:00:00": noon,
    "2026-12-01T12:00:00.1234567890": noon + 123,
    "2026-12-01 12:00:00.5": noon + 500,
    "2026-12-01t12:00:00z": noon,
    "2026-12-01 14:00:00+0200": noon,
  };
  for (const [text, ms] of Object.entries(shapes)) {
    assert.equal(parseDateTime(text), ms, text);
    assert.equal(utcMs(text), ms, text);
    assert.equal(Date.parse(normalizeDateTime(text)!), ms, text);
    assert.equal(isoDate(text), new Date(ms).toISOString().replace(".000Z", "Z"), text);
  }
  assert.equal(normalizeDateTime("2026-12-01 12:00:00"), "2026-12-01T12:00:00Z");
  assert.equal(
    normalizeDateTime("2026-12-01T12:00:00.1234567890"),
    "2026-12-01T12:00:00.1234567890Z",
  );
  for (
    const bad of [
      "Dec 1 2026 12:00:00",
      "12/01/2026 12:00",
      "2026/12/01 12:00:00",
      "2026-12-01T12",
      "2026-12-01  12:00:00",
      "2026-12-01T12:00:00 UTC",
      "1 December 2026",
      "2026-12-01",
    ]
  ) {
    assert.equal(parseDateTime(bad), null, bad);
    assert.equal(normalizeDateTime(bad), null, bad);
  }
});

test("HTTP dates are GMT in every form, and never host-local", () => {
  const ms = Date.UTC(1994, 10, 6, 8, 49, 37);
  assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), ms);
  assert.equal(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), ms);
  assert.equal(parseHttpDate("Sun Nov  6 08:49:37 1994"), ms);
  assert.equal(parseHttpDate("1994-11-06T08:49:37"), ms);
  assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37"), null);
  assert.equal(parseHttpDate("yesterday"), null);
  assert.equal(parseRetryAfter("1994-11-06 08:49:47", ms), 10_000);
  assert.equal(parseRetryAfter("Sun Nov  6 08:49:47 1994", ms), 10_000);
});

for (const shape of ["space", "lowercase", "long-fraction", "mixed"] as DateShape[]) {
  test(`a sync of records whose offset-less date-times are shaped ${shape} gets every row`, async () => {
    const running = await startSimulator({
      records: 30,
      seed: 3,
      switches: { offsetlessDates: true, dateShape: shape, productsEdited: true },
    });
    try {
      const folder = join(dir, `shape-${shape}`);
      const path = join(folder, "act.db");
      const statePath = join(folder, "state.json");
      for (let i = 0; i < 2; i++) {
        const result = await syncOnce(`sqlite:${path}`, statePath, {
          tables: ["contacts", "products"],
          batchSize: 7,
          lookbackSeconds: 0,
          source: simulatorClient(running.url),
        });
        assert.deepEqual(result.tables.map((t) => t.status), ["ok", "ok"], shape);
        for (const table of ["contacts", "products"] as const) {
          // Every row, each at the same instant (a 10-digit fraction is kept as written).
          const stored = sqliteRows(path, table);
          const rows = running.sim.rows(table);
          assert.equal(stored.size, rows.length, `${shape} ${table}`);
          for (const row of rows) {
            const got = stored.get(String(row.id))?.edited;
            assert.equal(Date.parse(String(got)), Date.parse(String(row.edited)), String(row.id));
          }
        }
      }
      const state = readState(statePath) as unknown as { table_cursors: Record<string, string> };
      const newest = running.sim.rows("contacts").map((r) => String(r.edited)).sort().at(-1)!;
      assert.equal(state.table_cursors.contacts, newest.replace("+00:00", "Z"));
    } finally {
      await running.close();
    }
  });
}

test("a sync of records whose date-times have no offset gets every row, stored as UTC", async () => {
  const running = await startSimulator({
    records: 30,
    seed: 3,
    switches: { offsetlessDates: true },
  });
  try {
    const folder = join(dir, "offsetless");
    const path = join(folder, "act.db");
    const statePath = join(folder, "state.json");
    const run = async () => {
      return await syncOnce(`sqlite:${path}`, statePath, {
        tables: ["contacts", "products"],
        batchSize: 7,
        lookbackSeconds: 0,
        source: simulatorClient(running.url),
      });
    };
    for (let i = 0; i < 2; i++) {
      const result = await run();
      assert.deepEqual(result.tables.map((t) => t.status), ["ok", "ok"]);
      for (const table of ["contacts", "products"] as const) {
        assertMirrors(table, running.sim.rows(table), sqliteRows(path, table));
      }
    }
    const edited = [...sqliteRows(path, "contacts").values()].map((r) => String(r.edited));
    assert.ok(edited.every((e) => e.endsWith("Z")), edited[0]);
    const state = readState(statePath) as unknown as { table_cursors: Record<string, string> };
    const newest = running.sim.rows("contacts").map((r) => String(r.edited)).sort().at(-1)!;
    assert.match(state.table_cursors.contacts, /Z$/);
    assert.ok(Date.parse(state.table_cursors.contacts) >= Date.parse(newest));
  } finally {
    await running.close();
  }
});
