import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  assignCustomNames,
  customBaseName,
  entityNames,
  MAX_SLUG,
} from "../src/act/custom_tables.ts";
import { selectTables, TABLE_NAMES } from "../src/act/tables.ts";
import { customRecords, discoverCustomTables } from "../src/sync/custom.ts";
import { createLogger } from "../src/core/log.ts";
import { HttpError } from "../src/core/errors.ts";
import type { ListPage, PageSource } from "../src/sync/engine.ts";
import { emptyState, type State } from "../src/state/mod.ts";
import { Monitor } from "../src/service/monitor.ts";

describe("customBaseName()", () => {
  test("folds to ASCII, lower-cases and joins other characters with one underscore", () => {
    assert.equal(customBaseName("Projects"), "custom_projects");
    assert.equal(
      customBaseName("Équipement Rentals & Service"),
      "custom_equipement_rentals_service",
    );
    assert.equal(customBaseName("  Ärzte-Verzeichnis (2026) "), "custom_arzte_verzeichnis_2026");
    assert.equal(customBaseName("売上"), "custom_table");
    assert.equal(customBaseName("x".repeat(80)), `custom_${"x".repeat(MAX_SLUG)}`);
  });
});

describe("assignCustomNames()", () => {
  test("disambiguates collisions in the order of the Act! names, never reusing a derived name", () => {
    const names = assignCustomNames(
      ["projects", "Projects", "Projects contacts", "Projects live"],
      {},
    );
    assert.deepEqual(names, {
      "Projects": "custom_projects",
      "Projects contacts": "custom_projects_contacts_2",
      "Projects live": "custom_projects_live_2",
      "projects": "custom_projects_2",
    });
  });

  test("keeps the names already given, whatever appears later", () => {
    const first = assignCustomNames(["projects"], {});
    assert.deepEqual(first, { projects: "custom_projects" });
    // "Projects" sorts before "projects" but arrives later: the older name stays.
    const later = assignCustomNames(["Projects", "projects"], first);
    assert.deepEqual(later, { projects: "custom_projects", Projects: "custom_projects_2" });
  });
});

describe("entityNames()", () => {
  test("reads a name from several shapes and skips duplicates and nameless items", () => {
    assert.deepEqual(
      entityNames([
        { name: "A" },
        { EntityName: "B" },
        { id: 3, displayName: "C" },
        "D",
        { name: "A" },
        { id: 4 },
        null,
      ]),
      ["A", "B", "C", "D"],
    );
  });
});

describe("selectTables()", () => {
  test("custom tables by custom_* or by name, less -NAME entries", () => {
    const customs = ["custom_a", "custom_b"] as const;
    assert.deepEqual(selectTables(["contacts", "custom_*"], customs), [
      "contacts",
      "custom_a",
      "custom_b",
    ]);
    // Before the metadata tables, whose labelled views cover them.
    assert.deepEqual(selectTables([...TABLE_NAMES, "custom_*", "-custom_a"], customs).slice(-3), [
      "custom_b",
      "field_labels",
      "picklist_items",
    ]);
    assert.deepEqual(selectTables(["custom_b", "custom_zz"], customs), ["custom_b"]);
  });
});

function source(answer: () => unknown[]): PageSource {
  return {
    list(): Promise<ListPage> {
      return Promise.resolve({
        rows: answer() as Record<string, unknown>[],
        serverDate: null,
        envelope: "array",
      });
    },
  };
}

describe("discoverCustomTables()", () => {
  const deps = () => {
    const lines: string[] = [];
    return { lines, logger: createLogger({ write: (l) => lines.push(l) }), now: () => 0 };
  };

  test("records new tables, reports a missing one and keeps its name, reads it again when listed", async () => {
    let listed = [{ name: "Projects" }, { name: "Rentals" }];
    const src = source(() => listed);
    const d = deps();
    let state: State = emptyState();
    const first = await discoverCustomTables(src, state, d);
    assert.deepEqual(first.specs.map((s) => s.name), ["custom_projects", "custom_rentals"]);
    state = first.state;
    listed = [{ name: "Rentals" }];
    const second = await discoverCustomTables(src, state, d);
    assert.deepEqual(second.specs.map((s) => s.name), ["custom_rentals"]);
    assert.deepEqual(second.missing, ["custom_projects"]);
    assert.ok(
      d.lines.some((l) => l.includes("WARNING") && l.includes('"Projects"')),
      d.lines.join(),
    );
    assert.equal(customRecords(second.state).Projects.missing_since, "1970-01-01T00:00:00.000Z");
    listed = [{ name: "projects" }, { name: "Projects" }, { name: "Rentals" }];
    const third = await discoverCustomTables(src, second.state, d);
    assert.deepEqual(third.specs.map((s) => s.name), [
      "custom_projects",
      "custom_projects_2",
      "custom_rentals",
    ]);
    assert.equal(customRecords(third.state).Projects.table, "custom_projects");
    assert.equal(customRecords(third.state).Projects.missing_since, null);
  });

  test("a server without the endpoint has no custom tables; another failure reads the known ones", async () => {
    const d = deps();
    const missing: PageSource = {
      list: () => Promise.reject(new HttpError(404, "GET", "/api/metadata/entities", "")),
    };
    const none = await discoverCustomTables(missing, emptyState(), d);
    assert.deepEqual(none.specs, []);
    const known = (await discoverCustomTables(source(() => [{ name: "X" }]), emptyState(), d))
      .state;
    const failing: PageSource = { list: () => Promise.reject(new Error("boom")) };
    const kept = await discoverCustomTables(failing, known, d);
    assert.deepEqual(kept.specs.map((s) => s.name), ["custom_x"]);
    assert.ok(d.lines.some((l) => l.includes("Cannot list the Act! custom tables: boom")));
  });
});

describe("Monitor with custom tables", () => {
  test("/state's tables hold the custom tables the state records, less those left out", () => {
    const state: State = {
      ...emptyState(),
      custom_tables: {
        Projects: { table: "custom_projects", first_seen: "2026-01-01T00:00:00Z" },
        Old: {
          table: "custom_old",
          first_seen: "2026-01-01T00:00:00Z",
          missing_since: "2026-02-01T00:00:00Z",
        },
        Hidden: { table: "custom_hidden", first_seen: "2026-01-01T00:00:00Z" },
      },
      tables: { custom_projects: { rows_total: 7 } },
    };
    const monitor = new Monitor({
      tables: ["contacts", "custom_*", "-custom_hidden"],
      schedule: "*/15 * * * *",
      intervalMs: 900_000,
      state,
    });
    const tables = monitor.snapshot().tables;
    assert.deepEqual(Object.keys(tables), ["contacts", "custom_old", "custom_projects"]);
    assert.equal(tables.custom_projects.rows_total, 7);
  });
});
