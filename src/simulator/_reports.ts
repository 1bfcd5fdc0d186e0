/**
 * The simulator's collections that reports need beyond the six tables the Python connector
 * copied: opportunity line items (read per opportunity, mutable), group members, and the forms of
 * history `details`.
 *
 * @module
 */
import { type Dataset, type Row, sumTotals } from "./_data.ts";
import { actDate, type Random } from "./_random.ts";
import type { TableStore } from "./_store.ts";
import { utcMs } from "../core/time.ts";

/** What {@linkcode LineItems} needs from the simulator. */
export interface LineItemHost {
  data: Dataset;
  opportunities: TableStore;
  contacts: TableStore;
  groups: TableStore;
  rng: Random;
  /** The stamping clock, whole seconds, ms. */
  stampNow(): number;
  /** Whether a line item change bumps its opportunity's `edited`. */
  bumps(): boolean;
  /** Bump an opportunity's `edited` with a patch (the simulator's `edit`). */
  editOpportunity(id: string, patch: Row): void;
}

/**
 * The line items of every opportunity (`/api/opportunities/{id}/products`): generated from the
 * opportunity's id until first changed, then kept.
 */
export class LineItems {
  #host: LineItemHost;
  #changed = new Map<string, Row[]>();

  constructor(host: LineItemHost) {
    this.#host = host;
  }

  /** The line items of an opportunity, or undefined when there is no such opportunity. */
  of(oppId: string): Row[] | undefined {
    const id = oppId.toLowerCase();
    const opp = this.#host.opportunities.get(id);
    if (!opp) return undefined;
    const changed = this.#changed.get(id);
    if (changed) return structuredClone(changed);
    const data = this.#host.data;
    const i = data.indexOf("opportunities", id);
    if (i >= 0) {
      const key = data.key("opportunities", i);
      return data.lineItems(id, utcMs(String(key.created)), utcMs(String(key.edited)));
    }
    // Inserted: generated with the opportunity, all stamped when it was created.
    const created = utcMs(String(opp.created));
    return data.lineItems(id, created, created);
  }

  /** Every line item of every live opportunity, in the opportunities' storage order. */
  all(): Row[] {
    return this.#host.opportunities.all().flatMap((opp) => this.of(String(opp.id)) ?? []);
  }

  /** Add a line item (fields of `patch` win) to an opportunity; returns it. */
  add(oppId: string, patch: Row = {}): Row {
    const items = this.#items(oppId);
    const now = this.#host.stampNow();
    const products = Math.max(1, this.#host.data.counts.products);
    const product = Math.floor(this.#host.rng.next() * products);
    const item = {
      ...this.#host.data.lineItem(this.#host.rng, oppId.toLowerCase(), product, now, now),
      ...patch,
    };
    items.push(item);
    this.#save(oppId, items);
    return structuredClone(item);
  }

  /** Change a line item (bumps its `edited`/`editDate`); returns it. */
  edit(oppId: string, itemId: string, patch: Row = {}): Row {
    const items = this.#items(oppId);
    const k = items.findIndex((item) => item.id === itemId);
    if (k < 0) throw new RangeError(`Cannot edit line item: no item "${itemId}" on "${oppId}"`);
    const stamp = actDate(this.#host.stampNow());
    items[k] = { ...items[k], ...patch, id: itemId, edited: stamp, editDate: stamp };
    this.#save(oppId, items);
    return structuredClone(items[k]);
  }

  /** Remove a line item from an opportunity; false if there was none. */
  remove(oppId: string, itemId: string): boolean {
    const items = this.#items(oppId);
    const rest = items.filter((item) => item.id !== itemId);
    if (rest.length === items.length) return false;
    this.#save(oppId, rest);
    return true;
  }

  #items(oppId: string): Row[] {
    const items = this.of(oppId);
    if (!items) throw new RangeError(`Cannot change line items: no opportunity "${oppId}"`);
    return items;
  }

  #save(oppId: string, items: Row[]): void {
    this.#changed.set(oppId.toLowerCase(), items);
    if (!this.#host.bumps()) return;
    const total = sumTotals(items);
    const opp = this.#host.opportunities.get(oppId.toLowerCase())!;
    this.#host.editOpportunity(oppId.toLowerCase(), {
      productTotal: total,
      weightedTotal: Math.round(total * Number(opp.probability ?? 0)) / 100,
    });
  }

  /**
   * The answer to `/api/opportunities/{id}/products` and `/api/groups/{id}/contacts`, or null
   * when the path is neither (parts: `["api", resource, id, sub]`).
   */
  route(parts: readonly string[]): { status: 200 | 404; rows: Row[] } | null {
    if (parts.length !== 4) return null;
    const resource = parts[1].toLowerCase();
    const sub = parts[3].toLowerCase();
    const id = decodeURIComponent(parts[2]).toLowerCase();
    if (resource === "opportunities" && sub === "products") {
      const items = this.of(id);
      return items ? { status: 200, rows: items } : { status: 404, rows: [] };
    }
    if (resource === "groups" && sub === "contacts") {
      if (!this.#host.groups.get(id)) return { status: 404, rows: [] };
      const data = this.#host.data;
      const i = data.indexOf("groups", id);
      const members = i < 0 ? [] : data.groupMembers(i);
      const rows: Row[] = [];
      for (const j of members) {
        const contact = this.#host.contacts.get(data.idOf("contacts", j));
        if (contact) rows.push(contact);
      }
      return { status: 200, rows };
    }
    return null;
  }
}

/** A line item as served: its opportunity's id as `OpportunityID` when `upper` is set. */
export function lineItemView(row: Row, upper: boolean): Row {
  if (!upper) return row;
  const { opportunityID, ...rest } = row;
  return { ...rest, OpportunityID: opportunityID };
}

/**
 * A page of one parent's rows from a server with a page size of `cap`: `$orderby=id` (asc or
 * desc; any other order is not applied), `$skip`, then at most the smaller of `$top` and `cap`.
 */
export function subListPage(rows: Row[], query: URLSearchParams, cap: number): Row[] {
  const order = (query.get("$orderby") ?? "").trim().toLowerCase();
  const sorted = /^id( asc| desc)?$/.test(order)
    ? [...rows].sort((a, b) =>
      String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0
    )
    : rows;
  if (order.endsWith("desc")) sorted.reverse();
  const number = (key: string) => {
    const text = query.get(key);
    return text !== null && /^\d+$/.test(text) ? Number(text) : null;
  };
  const skip = number("$skip") ?? 0;
  return sorted.slice(skip, skip + Math.min(number("$top") ?? Infinity, cap));
}

/** A group as served: without `created`/`edited` when groups do not carry them. */
export function groupView(row: Row, edited: boolean): Row {
  if (edited) return row;
  const { created: _c, edited: _e, ...rest } = row;
  return rest;
}

/**
 * A history row with `details` in the form `format` asks for (`text`, `html`, `rtf`; `auto` and
 * none: as stored, HTML), or as stored when the server ignores `format`.
 */
export function historyDetails(row: Row, format: string | null, honour: boolean): Row {
  const details = row.details;
  if (!honour || typeof details !== "string" || details === "") return row;
  const kind = (format ?? "auto").toLowerCase();
  if (kind === "text") return { ...row, details: htmlToText(details) };
  if (kind === "rtf") {
    const text = htmlToText(details).replace(/[\\{}]/g, (c) => `\\${c}`);
    return { ...row, details: `{\\rtf1\\ansi\\deff0 ${text}\\par}` };
  }
  return row;
}

/** The text of simple HTML: tags dropped, the common entities decoded. */
export function htmlToText(html: string): string {
  return html.replace(/<\/(p|li|div)>/gi, "\n").replace(/<[^>]*>/g, "")
    .replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'").replaceAll("&nbsp;", " ").replaceAll("&amp;", "&").trim();
}
