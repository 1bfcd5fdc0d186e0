// What the Act! server may answer that must neither stop a run for nothing nor show a secret:
// `/api/system` in every spelling, a 2xx HTML page carrying the password, error bodies with the
// password in every encoding, and the refusals 4031 and 4032.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../src/cli/mod.ts";
import {
  type Fault,
  simulatorConfig,
  type SimulatorSwitches,
  startSimulator,
} from "../src/simulator/mod.ts";
import { tempDir } from "./_helpers.ts";

/** Non-ASCII, `&<>"'`, a space, `+`, `/`, `%` and `\`, between letters seen nowhere else. */
const PASSWORD = `Zq9Pä &<>"'+/%\\ü€Xw7`;

interface Run {
  code: number;
  stdout: string;
  state: string;
  log: string;
  dataRequests: number;
}

async function runCommand(
  command: string[],
  options: {
    switches?: Partial<SimulatorSwitches>;
    faults?: Fault[];
    config?: Record<string, unknown>;
    format?: "text" | "json";
  } = {},
): Promise<Run> {
  const { url, sim, close } = await startSimulator({
    records: 12,
    password: PASSWORD,
    switches: options.switches,
  });
  try {
    for (const fault of options.faults ?? []) sim.inject(fault);
    const dir = tempDir("act-sync-answers-");
    const config = join(dir, "configuration.json");
    writeFileSync(
      config,
      JSON.stringify(simulatorConfig(url, {
        password: PASSWORD,
        destination: `sqlite:${join(dir, "act.db")}`,
        state_file: join(dir, "state.json"),
        log_file: join(dir, "act-sync.log"),
        log_level: "FINE",
        log_format: options.format ?? "text",
        tables: "contacts,companies,opportunities",
        max_retries: 0,
        ...options.config,
      })),
    );
    let stdout = "";
    const code = await runCli({
      args: [...command, "--config", config],
      env: {},
      cwd: dir,
      stdout: (text) => stdout += text,
      stderr: (text) => stdout += text,
      isTty: false,
    });
    const read = (name: string) =>
      existsSync(join(dir, name)) ? readFileSync(join(dir, name), "utf8") : "";
    return {
      code,
      stdout,
      state: read("state.json"),
      log: read("act-sync.log"),
      dataRequests: sim.stats.dataRequests,
    };
  } finally {
    await close();
  }
}

/** The password in every spelling the tests send, each by its first and last three characters. */
function pieces(): string[] {
  const spell = (text: string, how: (c: string) => string) => [...text].map(how).join("");
  const utf8 = (c: string) =>
    [...new TextEncoder().encode(c)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
  const units = (c: string, upper: boolean) =>
    [...c].map((u) => {
      const hex = u.charCodeAt(0).toString(16).padStart(4, "0");
      return `\\u${upper ? hex.toUpperCase() : hex}`;
    }).join("");
  const ends = [[...PASSWORD].slice(0, 3).join(""), [...PASSWORD].slice(-3).join("")];
  const out: string[] = [];
  for (const part of ends) {
    out.push(
      part,
      spell(part, utf8),
      spell(part, utf8).toUpperCase(),
      spell(part, (c) => `&#${c.codePointAt(0)};`),
      spell(part, (c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`),
      spell(part, (c) => units(c, true)),
      spell(part, (c) => units(c, false)),
    );
  }
  return out;
}

function assertNoPiece(run: Run): void {
  for (const [where, text] of Object.entries(run)) {
    if (typeof text !== "string") continue;
    for (const piece of pieces()) {
      assert.ok(
        !text.toLowerCase().includes(piece.toLowerCase()),
        `${where} shows a piece of the password as ${JSON.stringify(piece)}:\n${text}`,
      );
    }
  }
}

describe("/api/system in any spelling", () => {
  for (const spelling of ["pascal", "empty"] as const) {
    test(`--once and reconcile succeed when /api/system answers ${spelling}`, async () => {
      const once = await runCommand(["--once"], { switches: { systemSpelling: spelling } });
      assert.equal(once.code, 0, once.stdout + once.log);
      assert.match(
        once.log,
        spelling === "pascal"
          ? /apiVersion=1\.1\.524\.0 sdkVersion=24\.1\.113\.0/
          : /apiVersion=null/,
      );
      const reconcile = await runCommand(["reconcile"], { switches: { systemSpelling: spelling } });
      assert.equal(reconcile.code, 0, reconcile.stdout + reconcile.log);
    });
  }
});

describe("a 2xx HTML page carrying the password", () => {
  test("shows no piece of the password in stdout, the log or state.json", async () => {
    for (const format of ["text", "json"] as const) {
      const run = await runCommand(["--once"], { switches: { htmlPasswordBody: true }, format });
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stdout, /unusable body.*text\/html.*Sign in/);
      assert.match(JSON.parse(run.state).tables.contacts.last_error.message, /saved = '\*\*\*/);
      assertNoPiece(run);
    }
  });
});

describe("an error body with the password in any encoding", () => {
  test("shows it in no spelling in stdout, the log or state.json", async () => {
    const percent = (text: string, upper: boolean) =>
      [...new TextEncoder().encode(text)].map((b) => {
        const hex = b.toString(16).padStart(2, "0");
        return `%${upper ? hex.toUpperCase() : hex}`;
      }).join("");
    const entity = (hex: boolean) =>
      [...PASSWORD].map((c) => {
        const code = c.codePointAt(0)!;
        return hex ? `&#x${code.toString(16)};` : `&#0${code};`;
      }).join("");
    const escaped = [...PASSWORD].map((c) =>
      `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`
    ).join("");
    const named = PASSWORD.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
      .replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;")
      .replaceAll("ä", "&auml;").replaceAll("ü", "&uuml;").replaceAll("€", "&euro;");
    const bodies = [
      `denied: p=${percent(PASSWORD, false)}`,
      `denied: <b>${entity(false)}</b> or ${entity(true)}`,
      JSON.stringify({ message: `denied: ${escaped} or ${named}` }),
    ];
    const tables = ["contacts", "companies", "opportunities"];
    const faults: Fault[] = bodies.map((body, i) => ({
      kind: "status",
      status: 500,
      body,
      path: `/api/${tables[i]}`,
    }));
    const run = await runCommand(["--once"], { faults });
    assert.equal(run.code, 1, run.stdout);
    const state = JSON.parse(run.state);
    for (const table of tables) {
      assert.match(state.tables[table].last_error.message, /denied: .*\*\*\*/, table);
    }
    assertNoPiece(run);
  });
});

describe("Act! refusals 4031 and 4032", () => {
  for (
    const [code, status, words] of [[4031, 403, /subscription/], [
      4032,
      500,
      /Web API Access/,
    ]] as const
  ) {
    test(`error ${code} with status ${status} ends the run at once with exit 4 and what to do`, async () => {
      const run = await runCommand(["--once"], { switches: { actError: { code, status } } });
      assert.equal(run.code, 4, run.stdout);
      assert.equal(run.dataRequests, 1, "no retry, and no request for the other tables");
      assert.match(run.stdout, new RegExp(`error ${code}`));
      assert.match(run.log, new RegExp(`SEVERE +Run \\S+ failed: Act! refused .* error ${code}`));
      assert.match(run.log, words);
      assert.match(run.log, /retrying does not help \(exit code 4\)/);
      assert.doesNotMatch(run.log, /fix 'username', 'password'/);
    });
  }

  test("check stops probing at the refusal and exits 4 with what to do", async () => {
    const run = await runCommand(["check"], {
      switches: { actError: { code: 4031, status: 403 } },
    });
    assert.equal(run.code, 4, run.stdout);
    assert.equal(run.dataRequests, 1);
    assert.match(run.log, /SEVERE +Check failed: Act! refused .*error 4031 .*\(exit code 4\)/);
    assert.doesNotMatch(run.log, /fix 'username', 'password'/);
  });

  test("reconcile ends the same way", async () => {
    const run = await runCommand(["reconcile"], {
      switches: { actError: { code: 4032, status: 403 } },
    });
    assert.equal(run.code, 4, run.stdout);
    assert.equal(run.dataRequests, 1);
    assert.match(run.log, /error 4032 \(no API permission/);
  });
});
