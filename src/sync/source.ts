/**
 * The one request path of a table's read in `sync/`: the sync engine's reads and reconcile's
 * id scans and whole reads send every list request through a {@linkcode CountedSource}, which
 * counts it, ends a read that passes {@linkcode MAX_REQUESTS} as not advancing, and turns a stop
 * request (the run's signal aborted) into {@linkcode StopRequested}; {@linkcode firstAnswering}
 * is the one fallback of an endpoint that answers 404.
 *
 * @module
 */
import { HttpError } from "../core/errors.ts";
import type { OdataQuery } from "../act/odata.ts";
import type { ListInit } from "../act/client.ts";
import type { ListPage, PageSource } from "./run_types.ts";
import { MAX_REQUESTS, notAdvancing } from "./scan.ts";

/**
 * A read ended by a stop request: the caller keeps what it committed and reports the table as
 * stopped, not failed.
 */
export class StopRequested extends Error {}

/** How a page's body is parsed: the client's `lazy` or `whole`. */
export type Parsing = Omit<ListInit, "signal">;

/** The list requests of one read: counted, at most {@linkcode MAX_REQUESTS}, stopped on request. */
export class CountedSource {
  #source: PageSource;
  #signal: AbortSignal | undefined;
  #who: string;
  #requests = 0;

  /**
   * `signal` stops the read (each request is sent with it); `who` names the read in "… is not
   * advancing" messages, e.g. `Paging` or `Id scan`.
   */
  constructor(source: PageSource, options: { signal?: AbortSignal; who: string }) {
    this.#source = source;
    this.#signal = options.signal;
    this.#who = options.who;
  }

  /** Requests counted so far. */
  get requests(): number {
    return this.#requests;
  }

  /**
   * One counted request. Throws {@linkcode StopRequested} when the read was stopped before it
   * or while it failed, and a RangeError once the read passes {@linkcode MAX_REQUESTS}.
   */
  async list(path: string, query: OdataQuery, init: Parsing = {}): Promise<ListPage> {
    if (this.#signal?.aborted) throw new StopRequested();
    if (++this.#requests > MAX_REQUESTS) {
      throw notAdvancing(this.#who, `more than ${MAX_REQUESTS} requests`);
    }
    return await this.#send(path, query, init);
  }

  /**
   * A counted request asked again at another path (the engine's endpoint fallback): not counted
   * again, as it stands in for the request that answered 404.
   */
  async again(path: string, query: OdataQuery, init: Parsing = {}): Promise<ListPage> {
    if (this.#signal?.aborted) throw new StopRequested();
    return await this.#send(path, query, init);
  }

  async #send(path: string, query: OdataQuery, init: Parsing): Promise<ListPage> {
    try {
      return await this.#source.list(path, query, { ...init, signal: this.#signal });
    } catch (error) {
      if (this.#signal?.aborted) throw new StopRequested();
      throw error;
    }
  }
}

/** Whether an error is an HTTP 404 answer. */
export function isNotFound(error: unknown): boolean {
  return error instanceof HttpError && error.status === 404;
}

/**
 * `request` at each of `paths` in turn while it answers 404 (an endpoint that this server names
 * otherwise): the first path that answered, with its answer. Any other error, and the last
 * path's 404, is thrown.
 */
export async function firstAnswering<T>(
  paths: readonly string[],
  request: (path: string) => Promise<T>,
): Promise<{ path: string; answer: T }> {
  for (let i = 0; i < paths.length; i++) {
    try {
      return { path: paths[i], answer: await request(paths[i]) };
    } catch (error) {
      if (!(isNotFound(error) && i < paths.length - 1)) throw error;
    }
  }
  throw new RangeError("Cannot request a list: no path given");
}
