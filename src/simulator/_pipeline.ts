/**
 * Private: mutation actions on opportunities, as a sales team makes them between two syncs:
 * move a deal to its next stage, move its estimated close date, change its amount, delete it.
 * Each action goes through {@linkcode Simulator.edit} (so `edited` moves to the stamping clock's
 * now) and is written to the mutator's log with the values it left, for tests that compare a
 * history of the table with what the server did.
 *
 * @module
 */
import { STAGES } from "./_data.ts";
import { actDate, Random } from "./_random.ts";
import type { Simulator } from "./simulator.ts";

/** What one action did to one opportunity. */
export interface PipelineChange {
  /** The opportunity's id. */
  id: string;
  action: "stage" | "close" | "amount" | "delete";
  /** Its `edited` after the action (null for a delete). */
  edited: string | null;
  /** The stage name, estimated close date and amount after the action (null for a delete). */
  values: PipelineValues | null;
}

/** The fields the pipeline actions change. */
export interface PipelineValues {
  stage: string;
  estimatedCloseDate: string;
  productTotal: number;
}

const DAY = 86_400_000;

/** Runs pipeline actions on a simulator's opportunities and logs them. */
export class PipelineMutator {
  /** Every action so far, in order. */
  readonly log: PipelineChange[] = [];
  #sim: Simulator;
  #rng: Random;

  constructor(sim: Simulator, seed = 1) {
    this.#sim = sim;
    this.#rng = new Random(seed);
  }

  /** Move the opportunity to the next stage (the last stage also marks it won). */
  advanceStage(id: string): PipelineChange {
    const row = this.#row(id);
    const stage = row.stage as { name: string; number: number };
    const next = Math.min(stage.number, STAGES.length - 1);
    const [name, probability] = STAGES[next];
    const total = Number(row.productTotal);
    return this.#edit(id, "stage", {
      stage: { ...stage, name, probability, number: next + 1 },
      probability,
      weightedTotal: Math.round(total * probability) / 100,
      ...(next === STAGES.length - 1 ? { status: 1, statusName: "Won" } : {}),
    });
  }

  /** Move the estimated close date by `days` (any sign, not 0). */
  moveCloseDate(id: string, days: number): PipelineChange {
    const row = this.#row(id);
    const from = Date.parse(String(row.estimatedCloseDate));
    return this.#edit(id, "close", { estimatedCloseDate: actDate(from + days * DAY) });
  }

  /** Set the amount (`productTotal`). */
  changeAmount(id: string, amount: number): PipelineChange {
    const row = this.#row(id);
    const probability = Number(row.probability);
    return this.#edit(id, "amount", {
      productTotal: amount,
      weightedTotal: Math.round(amount * probability) / 100,
    });
  }

  /** Delete the opportunity. */
  remove(id: string): PipelineChange {
    if (!this.#sim.remove("opportunities", id)) {
      throw new RangeError(`Cannot delete opportunity "${id}": it does not exist`);
    }
    const change: PipelineChange = { id, action: "delete", edited: null, values: null };
    this.log.push(change);
    return change;
  }

  /**
   * One random action (stage, close date or amount; a deal in the last stage gets another) on
   * each of `count` distinct live opportunities among the first `among` generated ones.
   */
  mutate(count: number, among?: number): PipelineChange[] {
    const pool = among ?? this.#sim.count("opportunities");
    const chosen = new Set<string>();
    const out: PipelineChange[] = [];
    for (let tries = 0; chosen.size < count && tries < count * 20; tries++) {
      const id = this.#sim.idAt("opportunities", this.#rng.int(0, pool - 1));
      if (chosen.has(id) || !this.#sim.get("opportunities", id)) continue;
      chosen.add(id);
      const stage = (this.#row(id).stage as { number: number }).number;
      const action = this.#rng.int(stage >= STAGES.length ? 1 : 0, 2);
      if (action === 0) out.push(this.advanceStage(id));
      else if (action === 1) {
        out.push(this.moveCloseDate(id, this.#rng.pick([-14, -7, 7, 14, 30, 60])));
      } else out.push(this.changeAmount(id, this.#rng.int(10, 2000) * 10));
    }
    return out;
  }

  #row(id: string): Record<string, unknown> {
    const row = this.#sim.get("opportunities", id);
    if (!row) throw new RangeError(`Cannot change opportunity "${id}": it does not exist`);
    return row;
  }

  #edit(id: string, action: PipelineChange["action"], patch: Record<string, unknown>) {
    const row = this.#sim.edit("opportunities", id, patch);
    const change: PipelineChange = {
      id,
      action,
      edited: String(row.edited),
      values: {
        stage: (row.stage as { name: string }).name,
        estimatedCloseDate: String(row.estimatedCloseDate),
        productTotal: Number(row.productTotal),
      },
    };
    this.log.push(change);
    return change;
  }
}
