/**
 * The Act! Web API simulator: a stand-in for a real Act! server in tests, the demo, chaos runs
 * and benchmarks. It follows what is known of the real server, with every uncertain point as a
 * switch (README.md, "The simulator") and faults on demand. Data is generated on demand from the
 * seed (millions of rows are cheap); only mutations are kept in memory.
 *
 * Default counts for `records` = n contacts: companies ceil(n/5), opportunities ceil(n/4),
 * activities 2n, products min(50 + floor(n/20), 5000), activity types 12.
 *
 * ```ts
 * import { startSimulator } from "./mod.ts";
 * const { url, sim, close } = await startSimulator({ records: 500, seed: 7 });
 * sim.inject({ kind: "status", status: 503, times: 2 });
 * // ... point a client at `url` with user "demo", password "demo", database "ActDemo"
 * await close();
 * ```
 *
 * @module
 */
export { type RunningSimulator, Simulator, startSimulator } from "./simulator.ts";
export * from "./options.ts";
export { oddFields, simulatorConfig } from "./_responses.ts";
export { actDate } from "./_random.ts";
export { POISON_KINDS, type PoisonKind, UNSTORABLE_KINDS } from "./_poison.ts";
