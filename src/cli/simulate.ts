/**
 * `act-sync simulate`: serve the Act! Web API simulator (src/simulator) on 127.0.0.1 until
 * SIGINT/SIGTERM, with its switches and faults as flags.
 *
 * @module
 */
import process from "node:process";
import { errorMessage, UsageError } from "../core/errors.ts";
import { parseFlags } from "./_flags.ts";
import {
  type BuiltinTableName as TableName,
  LOOKUP_TABLE_NAMES,
  TABLE_NAMES,
} from "../act/tables.ts";
import {
  actDate,
  type DateShape,
  type FaultKind,
  POISON_KINDS,
  type PoisonKind,
  type SimulatorOptions,
  type SimulatorSwitches,
  startSimulator,
} from "../simulator/mod.ts";
import { utcMs } from "../core/time.ts";

const DATE_SHAPES: readonly DateShape[] = ["iso", "space", "lowercase", "long-fraction", "mixed"];

const FAULT_KINDS: readonly FaultKind[] = [
  "status",
  "rate-limit",
  "malformed",
  "truncated",
  "html",
  "object",
  "slow",
  "drop",
  "bad-row",
  "expire-token",
];

/** Parse the flags of `act-sync simulate`; bad flags and values throw {@linkcode UsageError}. */
export function parseSimulateArgs(args: string[]): SimulatorOptions & { port: number } {
  let parsed;
  try {
    parsed = parseArgsStrict(args);
  } catch (error) {
    throw new UsageError(errorMessage(error), { cause: error });
  }
  const v = parsed;
  const issues: string[] = [];
  const int = (name: string, min: number, max: number): number | undefined => {
    const text = v[name] as string | undefined;
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || n < min || n > max) {
      issues.push(
        `'--${name}' must be an integer between ${min} and ${max}: current value is "${text}"`,
      );
      return undefined;
    }
    return n;
  };
  const num = (name: string, min: number, max: number): number | undefined => {
    const text = v[name] as string | undefined;
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      issues.push(
        `'--${name}' must be a number between ${min} and ${max}: current value is "${text}"`,
      );
      return undefined;
    }
    return n;
  };
  const switches: Partial<SimulatorSwitches> = {};
  const out: SimulatorOptions & { port: number } = { port: int("port", 0, 65535) ?? 8790 };
  const records = int("records", 0, 16_000_000);
  if (records !== undefined) out.records = records;
  const seed = int("seed", 0, 4294967295);
  if (seed !== undefined) out.seed = seed;
  for (const k of ["username", "password", "database"] as const) {
    if (v[k] !== undefined) out[k] = v[k] as string;
  }
  if (v.counts !== undefined) {
    const counts: Partial<Record<TableName, number>> = {};
    for (const part of String(v.counts).split(",")) {
      const [t, c] = part.split("=");
      if (!(TABLE_NAMES as readonly string[]).includes(t) || !/^\d+$/.test(c ?? "")) {
        issues.push(`'--counts' must be a list of table=N: current value is "${v.counts}"`);
        break;
      }
      counts[t as TableName] = Number(c);
    }
    out.counts = counts;
  }
  if (v.envelope !== undefined) {
    const text = String(v.envelope);
    const envelope: Partial<Record<TableName, "value" | "array">> = {};
    if (text === "value" || text === "array") {
      for (const t of TABLE_NAMES) envelope[t] = text;
    } else {
      for (const part of text.split(",")) {
        const [t, e] = part.split("=");
        if (!(TABLE_NAMES as readonly string[]).includes(t) || (e !== "value" && e !== "array")) {
          issues.push(
            `'--envelope' must be value, array or a list of table=value|array: current value is "${text}"`,
          );
          break;
        }
        envelope[t as TableName] = e;
      }
    }
    switches.envelope = envelope;
  }
  const cap = int("page-cap", 1, 1_000_000);
  if (cap !== undefined) switches.pageCap = cap;
  const size = int("default-page-size", 1, 1_000_000);
  if (size !== undefined) switches.defaultPageSize = size;
  if (v["multi-key-orderby"]) switches.multiKeyOrderBy = true;
  if (v["stable-order"]) switches.unstableOrder = false;
  if (v["activity-types"]) switches.activityTypes = true;
  if (v["products-edited"]) switches.productsEdited = true;
  if (v["no-products-filter"]) switches.productsFilter = false;
  if (v["no-ne-filter"]) switches.neFilter = false;
  if (v["ignore-skip"]) switches.ignoreSkip = true;
  if (v["no-date-header"]) switches.dateHeader = false;
  if (v["echo-credentials"]) switches.echoCredentials = true;
  if (v["offsetless-dates"]) switches.offsetlessDates = true;
  if (v["odd-fields"]) switches.oddFields = true;
  if (v["html-password"]) switches.htmlPasswordBody = true;
  const choice = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const text = v[name] as string | undefined;
    if (text === undefined) return undefined;
    if ((allowed as readonly string[]).includes(text)) return text as T;
    issues.push(`'--${name}' must be one of ${allowed.join(", ")}: current value is "${text}"`);
    return undefined;
  };
  const shape = choice("date-shape", DATE_SHAPES);
  if (shape !== undefined) switches.dateShape = shape;
  const spelling = choice("system-spelling", ["camel", "pascal", "empty"] as const);
  if (spelling !== undefined) switches.systemSpelling = spelling;
  if (v["act-error"] !== undefined) {
    const text = String(v["act-error"]);
    const m = /^(4031|4032)(?::([1-5]\d\d))?$/.exec(text);
    if (m) switches.actError = { code: Number(m[1]) as 4031 | 4032, status: Number(m[2] ?? 403) };
    else {
      issues.push(
        `'--act-error' must be 4031 or 4032, optionally with a status like 4031:500: current value is "${text}"`,
      );
    }
  }
  if (v["no-groups-edited"]) switches.groupsEdited = false;
  if (v["users-odata"]) switches.usersOdata = true;
  if (v["no-history-format"]) switches.historyFormat = false;
  if (v["no-line-items-bump"]) switches.lineItemsBumpOpportunity = false;
  if (v["no-notes-odata"]) switches.notesOdata = false;
  if (v["no-notes-format"]) switches.notesFormat = false;
  if (v["no-custom-metadata"]) switches.customMetadata = false;
  if (v["custom-entities"] !== undefined) {
    const text = String(v["custom-entities"]);
    switches.customEntities = text.split(",").map((e) => e.trim()).filter(Boolean);
  }
  if (v["metadata-empty"] !== undefined) {
    switches.metadataEmpty = String(v["metadata-empty"]).split(",").map((t) => t.trim())
      .filter(Boolean);
  }
  if (v["metadata-alternate"]) switches.metadataShape = "alternate";
  if (v["docs-forbidden"]) switches.docsForbidden = true;
  if (v["teams-embed-members"]) switches.teamsEmbedMembers = true;
  if (v["lookups-missing"] !== undefined) {
    const missing = String(v["lookups-missing"]).split(",").map((t) => t.trim()).filter(Boolean);
    const lookups: readonly string[] = LOOKUP_TABLE_NAMES;
    const bad = missing.find((t) => !lookups.includes(t));
    if (bad !== undefined) {
      issues.push(
        `'--lookups-missing' must list lookup tables (${
          LOOKUP_TABLE_NAMES.join(", ")
        }): current value is "${bad}"`,
      );
    } else switches.lookupsMissing = missing as TableName[];
  }
  if (v["line-items-upper-key"]) switches.lineItemsUpperKey = true;
  const subCap = int("sub-list-cap", 1, 1_000_000);
  if (subCap !== undefined) switches.subListCap = subCap;
  const lookupsCap = int("lookups-page-cap", 1, 1_000_000);
  if (lookupsCap !== undefined) switches.lookupsPageCap = lookupsCap;
  if (v["token-lifetime"] !== undefined) {
    if (v["token-lifetime"] === "none") switches.tokenLifetimeSeconds = null;
    else {
      const life = int("token-lifetime", 1, 1e9);
      if (life !== undefined) switches.tokenLifetimeSeconds = life;
    }
  }
  const maxReq = int("token-max-requests", 1, 1e9);
  if (maxReq !== undefined) switches.tokenMaxRequests = maxReq;
  const skew = int("clock-skew", -1e9, 1e9);
  if (skew !== undefined) switches.clockSkewSeconds = skew;
  const stampSkew = int("stamp-skew", -1e9, 1e9);
  if (stampSkew !== undefined) switches.stampSkewSeconds = stampSkew;
  if (v["date-jump-to"] !== undefined) {
    const text = String(v["date-jump-to"]);
    const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)
      ? utcMs(text)
      : NaN;
    if (Number.isNaN(ms)) {
      issues.push(
        `'--date-jump-to' must be an ISO-8601 date-time with a zone: current value is "${text}"`,
      );
    } else switches.dateJumpTo = ms;
  }
  const latency = int("latency", 0, 600_000);
  if (latency !== undefined) switches.latencyMs = latency;
  const limit = int("rate-limit", 1, 1e9);
  if (limit !== undefined) switches.rateLimit = { limit };
  const rate = num("fault-rate", 0, 1);
  const faultSeed = int("fault-seed", 0, 4294967295);
  let kinds: FaultKind[] = FAULT_KINDS.filter((k) =>
    k !== "slow" && k !== "drop" && k !== "bad-row"
  );
  if (v["fault-kinds"] !== undefined) {
    const list = String(v["fault-kinds"]).split(",").map((k) => k.trim());
    const bad = list.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
    if (bad.length || list.length === 0) {
      issues.push(
        `'--fault-kinds' must be a list of ${FAULT_KINDS.join(", ")}: current value is "${
          v["fault-kinds"]
        }"`,
      );
    }
    kinds = list as FaultKind[];
  }
  if (rate !== undefined && rate > 0) {
    switches.randomFaults = {
      rate,
      kinds,
      ...(faultSeed !== undefined ? { seed: faultSeed } : {}),
    };
  }
  if (v.poison !== undefined) {
    const poison: Record<string, PoisonKind> = {};
    for (const part of String(v.poison).split(",")) {
      const at = part.lastIndexOf("=");
      const kind = part.slice(at + 1) as PoisonKind;
      if (at < 1 || !POISON_KINDS.includes(kind)) {
        issues.push(
          `'--poison' must be a list of ID=KIND, KIND one of ${POISON_KINDS.join(", ")}: ` +
            `current value is "${v.poison}"`,
        );
        break;
      }
      poison[part.slice(0, at)] = kind;
    }
    switches.poison = poison;
  }
  if (issues.length) {
    throw new UsageError(
      issues.length === 1 ? issues[0] : `Invalid flags:\n  - ${issues.join("\n  - ")}`,
    );
  }
  if (Object.keys(switches).length) out.switches = switches;
  return out;
}

function parseArgsStrict(args: string[]): Record<string, string | boolean | undefined> {
  const strings = [
    "port",
    "records",
    "seed",
    "username",
    "password",
    "database",
    "counts",
    "envelope",
    "page-cap",
    "sub-list-cap",
    "lookups-page-cap",
    "default-page-size",
    "token-lifetime",
    "token-max-requests",
    "clock-skew",
    "stamp-skew",
    "date-jump-to",
    "latency",
    "rate-limit",
    "fault-rate",
    "fault-kinds",
    "fault-seed",
    "custom-entities",
    "date-shape",
    "system-spelling",
    "act-error",
    "metadata-empty",
    "lookups-missing",
    "poison",
  ];
  const booleans = [
    "multi-key-orderby",
    "stable-order",
    "activity-types",
    "products-edited",
    "no-products-filter",
    "no-ne-filter",
    "no-date-header",
    "ignore-skip",
    "echo-credentials",
    "offsetless-dates",
    "odd-fields",
    "html-password",
    "no-groups-edited",
    "users-odata",
    "no-history-format",
    "no-line-items-bump",
    "no-notes-odata",
    "no-notes-format",
    "no-custom-metadata",
    "metadata-alternate",
    "docs-forbidden",
    "teams-embed-members",
    "line-items-upper-key",
  ];
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const s of strings) options[s] = { type: "string" };
  for (const b of booleans) options[b] = { type: "boolean" };
  const { values } = parseFlags({ args, options, strict: true, allowPositionals: false });
  return values as Record<string, string | boolean | undefined>;
}

/** Output sinks for {@linkcode runSimulate}. */
export interface SimulateIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** `act-sync simulate`: serve the simulator on 127.0.0.1 until SIGINT/SIGTERM; true when stopped. */
export async function runSimulate(args: string[], io: SimulateIo): Promise<boolean> {
  const options = parseSimulateArgs(args);
  const running = await startSimulator({ ...options, hostname: "127.0.0.1" });
  const { sim } = running;
  io.stdout(
    `Act! Web API simulator listening on ${running.url}\n` +
      `  user "${options.username ?? "demo"}", database "${options.database ?? "ActDemo"}", ` +
      `${sim.count("contacts")} contacts, seed ${options.seed ?? 1}\n` +
      `  server time ${actDate(sim.serverNow())}; press Ctrl+C to stop\n`,
  );
  const { promise, resolve } = Promise.withResolvers<void>();
  const stop = (): void => resolve();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await promise;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  await running.close();
  io.stderr("Simulator stopped\n");
  return true;
}
