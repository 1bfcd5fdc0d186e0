import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runCheck } from "../src/jobs/check.ts";
import type { Config } from "../src/config/mod.ts";
import { configForSimulator } from "./_helpers.ts";
import { createLogger } from "../src/core/log.ts";
import { startSimulator } from "../src/simulator/mod.ts";
import { METADATA_TABLE_NAMES, TABLE_NAMES } from "../src/act/tables.ts";

type Sim = Awaited<ReturnType<typeof startSimulator>>;

function configFor(sim: Sim, extra: Record<string, unknown> = {}): Config {
  return configForSimulator(sim.url, { max_retries: 0, destination: "sqlite::memory:", ...extra });
}

async function check(
  config: Config,
): Promise<{ ok: boolean; out: string; log: string[] }> {
  let out = "";
  const log: string[] = [];
  const logger = createLogger({ write: (line) => log.push(line) });
  logger.addSecret(config.password);
  const { ok } = await runCheck(config, { stdout: (text) => out += text, logger });
  return { ok, out, log };
}

describe("runCheck()", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSimulator({ records: 10, seed: 7 });
  });
  after(async () => {
    await sim.close();
  });

  test("prints one OK line per table, falling back from activity-types to task-types", async () => {
    sim.sim.switches.activityTypes = false;
    const { ok, out, log } = await check(configFor(sim));
    assert.equal(ok, true, out);
    const lines = out.trimEnd().split("\n");
    // The built-in tables, with the custom tables Act! lists (see the custom tables' tests)
    // before the metadata tables; then the total and the destination.
    const metadata: readonly string[] = METADATA_TABLE_NAMES;
    const names = [
      ...TABLE_NAMES.filter((t) => !metadata.includes(t)),
      "custom_equipement_rentals_service",
      "custom_projects",
      ...METADATA_TABLE_NAMES,
    ];
    assert.equal(lines.length, names.length + 2);
    for (const [i, table] of names.entries()) {
      assert.match(lines[i], new RegExp(`^${table}\\s+/api/\\S+\\s+OK \\(`), lines[i]);
    }
    assert.match(lines[0], /^contacts\s+\/api\/contacts\s+OK \(\{"value": \[\.\.\.\]\}, 1 row\)$/);
    assert.match(lines[2], /^opportunities\s+\/api\/opportunities\s+OK \(bare array, 1 row\)$/);
    assert.match(
      lines[4],
      /^activity_types\s+\/api\/task-types\s+OK .*\/api\/activity-types answered 404/,
    );
    // Aligned: the result column starts at the same offset on every line.
    const starts = lines.slice(0, names.length).map((line) => line.indexOf(" OK ("));
    assert.equal(new Set(starts).size, 1, out);
    assert.match(lines[names.length], new RegExp(`All ${names.length} tables OK`));
    assert.match(
      lines[names.length + 1],
      /^Destination OK: opened and wrote one row to _act_check$/,
    );
    assert.match(out, /^notes\s+\/api\/notes\?format=text\s+OK/m);
    assert.match(
      out,
      /^custom_equipement_rentals_service\s+\/api\/custom\/entities\/%C3%89quipement%20Rentals%20%26%20Service\s+OK/m,
    );
    // Line items are probed on the first opportunity, users even when they ignore $top.
    assert.match(
      lines[9],
      /^opportunity_products\s+\/api\/opportunities\/[0-9a-f-]{36}\/products\s+OK \(bare array/,
    );
    assert.match(lines[8], /^users\s+\/api\/users\s+OK \(bare array, 8 rows\)$/);
    assert.ok(log.some((line) => /apiVersion=1\.1\.524\.0/.test(line) && /sdkVersion=/.test(line)));
  });

  test("uses /api/activity-types when the server has it", async () => {
    sim.sim.switches.activityTypes = true;
    try {
      const { ok, out } = await check(configFor(sim, { tables: ["activity_types"] }));
      assert.equal(ok, true, out);
      assert.match(out, /^activity_types\s+\/api\/activity-types\s+OK/);
    } finally {
      sim.sim.switches.activityTypes = false;
    }
  });

  test("returns false and names the error when a table fails", async () => {
    const { ok, out } = await check(
      configFor(sim, { endpoints: { products: "/api/no-such-products" } }),
    );
    assert.equal(ok, false);
    assert.match(out, /^products\s+\/api\/no-such-products\s+FAILED: .*404/m);
    assert.match(out, /^contacts\s+\/api\/contacts\s+OK/m);
    assert.match(out, new RegExp(`1 of ${TABLE_NAMES.length + 2} tables failed`));
  });

  test("a refused login prints 'Failed to authenticate…' without the password", async () => {
    const password = "not-the-password";
    const { ok, out, log } = await check(configFor(sim, { password }));
    assert.equal(ok, false);
    assert.match(out, /^Failed to authenticate: check username, password and database name/);
    assert.ok(!out.includes(password));
    assert.ok(!log.some((line) => line.includes(password)));
  });
});
