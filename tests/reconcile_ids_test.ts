// How reconcile holds and reads id lists: the compact IdSet against a Set<string>, the sinks'
// idsAfter() paging, and a reconcile reading the destination's ids a few at a time on both sinks.
import { after, before, describe, postgresSkip, test } from "./_skip.ts";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../src/core/log.ts";
import { ActClient } from "../src/act/client.ts";
import { UnparsedRow } from "../src/act/body_errors.ts";
import { IdSet } from "../src/sync/id_set.ts";
import { reconcileTables } from "../src/sync/reconcile.ts";
import { openSink } from "../src/sink/open.ts";
import type { FlatRow, Sink } from "../src/sink/sink.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { simulatorClient, syncOnce, tempDir } from "./_helpers.ts";
import { TestDatabase } from "./_postgres.ts";

const dir = tempDir("act-sync-reconcile-ids-");
const testDb = new TestDatabase("recids");
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await testDb.drop();
});
let counter = 0;

/** A deterministic pseudo-random GUID (lower case). */
function guid(n: number): string {
  let x = (n + 1) * 2654435761;
  let hex = "";
  for (let i = 0; i < 32; i++) {
    x = (Math.imul(x ^ (x >>> 13), 1597334677) + i) >>> 0;
    hex += (x & 15).toString(16);
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

describe("IdSet", () => {
  test("holds exactly what a Set<string> holds: GUIDs of either case, and any other id", () => {
    const ids: string[] = [];
    for (let n = 0; n < 5000; n++) ids.push(guid(n)); // past the first capacity: it grows
    ids.push(guid(1).toUpperCase()); // the same GUID in upper case is another id
    ids.push("00000000-0000-0000-0000-000000000000", "12345678-1234-1234-1234-123456789012");
    ids.push(guid(2).slice(0, 9) + guid(2).slice(9).toUpperCase()); // mixed case
    ids.push(guid(3) + "12072026", "42", "", "x", guid(4).replaceAll("-", "_"), ` ${guid(5)}`);
    ids.push("g" + guid(6).slice(1), guid(7).slice(0, 35) + "G");
    const set = new IdSet();
    const plain = new Set<string>();
    for (const id of [...ids, ...ids.slice(0, 100)]) {
      assert.equal(set.add(id), !plain.has(id), id);
      plain.add(id);
    }
    assert.equal(set.size, plain.size);
    assert.deepEqual([...set].sort(), [...plain].sort());
    for (const id of plain) assert.equal(set.has(id), true, id);
    for (const absent of [guid(5000), guid(7).toUpperCase(), guid(8).slice(0, 35), "43"]) {
      assert.equal(set.has(absent), false, absent);
    }
  });

  test("notIn() gives the ids the other list lacks, compared as bytes or as text", () => {
    const mine = new IdSet(10);
    const theirs = new IdSet();
    const ids = [guid(1), guid(2), guid(2).toUpperCase(), guid(3), "7", "x", guid(4) + "z"];
    for (const id of ids) mine.add(id);
    for (const id of [guid(1), guid(2).toUpperCase(), "7", guid(9), guid(4) + "z"]) {
      theirs.add(id);
    }
    const want = [guid(2), guid(3), "x"].sort();
    assert.deepEqual(mine.notIn(theirs).sort(), want);
    assert.deepEqual(mine.notIn(new Set(theirs)).sort(), want);
    assert.deepEqual(mine.notIn(theirs, (id) => id === "x").sort(), [guid(2), guid(3)].sort());
    assert.deepEqual(theirs.notIn(mine), [guid(9)]);
  });

  test("mark() marks held ids only; unmarked() gives the others, kept through growth", () => {
    const set = new IdSet();
    const ids = ["7", guid(0).toUpperCase()];
    for (let n = 1; n < 3000; n++) ids.push(guid(n));
    for (const id of ids.slice(0, 10)) set.add(id);
    assert.equal(set.mark("7"), true);
    assert.equal(set.mark(guid(0)), false); // not held: the upper-case one is
    assert.equal(set.mark(guid(0).toUpperCase()), true);
    assert.equal(set.mark(guid(3)), true);
    assert.equal(set.mark("8"), false);
    for (const id of ids.slice(10)) set.add(id); // grows: the marks stay
    assert.equal(set.mark(guid(2999)), true);
    const want = ids.filter((id) =>
      !["7", guid(0).toUpperCase(), guid(3), guid(2999)].includes(id)
    );
    assert.deepEqual(set.unmarked().sort(), want.sort());
    assert.deepEqual(set.unmarked((id) => id !== guid(5)), [guid(5)]);
    assert.equal(set.size, ids.length);
    assert.equal(set.has(guid(3)), true);
  });
});

describe("ActClient.list() with whole", () => {
  test("gives the rows of a row-by-row read; a body with a broken row is read row by row", async () => {
    const bodies = [
      '{"value":[{"id":"a"},{"id":12345678901234567890},{"id":"b\\"c"}]}',
      '[{"id":"a"},{"id":"b","n":tru},{"id":"d"}]',
    ];
    let body = "";
    const client = new ActClient({
      baseUrl: "http://127.0.0.1:9",
      username: "demo",
      password: "demo",
      database: "ActDemo",
      pauseMs: 0,
      sleep: () => Promise.resolve(),
      fetch: ((input: RequestInfo | URL) =>
        Promise.resolve(
          String(input).endsWith("/authorize")
            ? new Response("token", { status: 200 })
            : new Response(body, { status: 200, headers: { "content-type": "application/json" } }),
        )) as typeof fetch,
    });
    for (const text of bodies) {
      body = text;
      const whole = await client.list("/api/contacts", { select: "id" }, { whole: true });
      const rows = await client.list("/api/contacts", { select: "id" });
      assert.equal(whole.rows.length, 3);
      assert.deepEqual(whole.rows, rows.rows, text);
    }
    body = bodies[0];
    const exact = await client.list("/api/contacts", {}, { whole: true });
    assert.equal(exact.rows[1].id, 12345678901234567890n);
    body = bodies[1];
    const broken = await client.list("/api/contacts", {}, { whole: true });
    assert.ok(broken.rows[1] instanceof UnparsedRow);
    assert.equal(broken.rows[2].id, "d");
  });
});

interface Dest {
  name: string;
  skip: boolean | string;
  url(n: number): string;
}
const destinations: Dest[] = [
  { name: "SQLite", skip: false, url: (n) => `sqlite:${join(dir, `r${n}.db`)}` },
  { name: "PostgreSQL", skip: postgresSkip(), url: (n) => testDb.url(`schema=r${n}`) },
];

for (const dest of destinations) {
  describe(`Reading the destination's ids a part at a time (${dest.name})`, {
    skip: dest.skip,
  }, () => {
    if (dest.name === "PostgreSQL") before(async () => void await testDb.sql());
    test("idsAfter() gives every live id once, in parts; none for a missing table", async () => {
      const sink = await openSink(dest.url(++counter));
      try {
        assert.deepEqual(await sink.idsAfter!("contacts", null, 5), []);
        const rows: FlatRow[] = [];
        for (let n = 0; n < 23; n++) rows.push({ id: n % 2 ? guid(n).toUpperCase() : guid(n) });
        rows.push({ id: "7" }, { id: "10" }, { id: "a'b" });
        const at = "2026-01-01T00:00:00.000Z";
        await sink.write("contacts", { rows, types: new Map() }, at);
        const dead = [rows[3].id, rows[24].id];
        assert.equal(await sink.markDeleted("contacts", dead, at), 2);
        const read: string[] = [];
        let last: string | null = null;
        for (let part = 0; part < 20; part++) {
          const ids: string[] = await sink.idsAfter!("contacts", last, 4);
          read.push(...ids);
          if (ids.length < 4) break;
          last = ids.at(-1)!;
        }
        assert.deepEqual(read.toSorted(), (await sink.ids("contacts")).toSorted());
        assert.equal(read.length, rows.length - dead.length);
        assert.equal(new Set(read).size, read.length);
      } finally {
        await sink.close();
      }
    });

    test("reconcile reading 3 ids at a time marks exactly the rows Act! no longer has", async () => {
      const running = await startSimulator({ records: 40, seed: 3 });
      try {
        const url = dest.url(++counter);
        const client = simulatorClient(running.url);
        const tables = ["contacts", "activity_types"] as const;
        const first = await syncOnce(url, join(dir, `s${counter}.json`), {
          tables,
          source: client,
        });
        assert.equal(first.ok, true);
        const sim = running.sim;
        const gone = sim.rows("contacts").slice(5, 9).map((r) => String(r.id));
        for (const id of gone) sim.remove("contacts", id);
        sim.remove("activity_types", String(sim.rows("activity_types")[1].id));
        const live = sim.rows("contacts").map((r) => String(r.id)).sort();
        for (const wrapped of [false, true]) {
          const sink = await openSink(url);
          // A sink without idsAfter (a wrapper) gives its ids at once: the same outcome.
          const used: Sink = wrapped
            ? {
              description: sink.description,
              write: (t, p, s) => sink.write(t, p, s),
              count: (t) => sink.count(t),
              ids: (t, w) => sink.ids(t, w),
              markDeleted: (t, i, a) => sink.markDeleted(t, i, a),
              prepare: (t, s, a) => sink.prepare(t, s, a),
              reject: (t, r, a) => sink.reject(t, r, a),
              unreject: (t, k) => sink.unreject(t, k),
              rejected: () => sink.rejected(),
              scrub: (t, p, h) => sink.scrub(t, p, h),
              close: () => sink.close(),
            }
            : sink;
          try {
            const result = await reconcileTables(
              { tables, batchSize: 7, localIdPart: 3, maxDeleteFraction: 0.5 },
              { source: client, sink: used, logger: silentLogger(), now: Date.now },
            );
            assert.equal(result.ok, true, JSON.stringify(result.tables));
            const [contacts, types] = result.tables;
            assert.equal(contacts.local, wrapped ? live.length : live.length + gone.length);
            assert.equal(contacts.deleted, wrapped ? 0 : gone.length);
            assert.equal(contacts.fetched, 0);
            assert.equal(types.deleted, wrapped ? 0 : 1);
            assert.deepEqual((await sink.ids("contacts")).sort(), live);
          } finally {
            await sink.close();
          }
        }
      } finally {
        await running.close();
      }
    });
  });
}
