/**
 * The one PostgreSQL setup of the tests: a throw-away database on the server named by
 * `ACT_SYNC_TEST_PG` (a superuser URL), created on first use and dropped by `drop()`. Tests that
 * need it are skipped through `postgresSkip()` of `./_skip.ts` when no server is set.
 */
import process from "node:process";
import postgres from "postgres";

/** A throw-away database. */
export class TestDatabase {
  /** The database name (`act_sync_<prefix>_<random>`). */
  readonly name: string;
  #admin: postgres.Sql | undefined;
  #db: postgres.Sql | undefined;
  #max: number;

  constructor(prefix: string, options: { max?: number } = {}) {
    this.name = `act_sync_${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
    this.#max = options.max ?? 1;
  }

  /** The server's URL pointing at this database, with `query` (e.g. `schema=x`). */
  url(query = ""): string {
    const url = new URL(process.env.ACT_SYNC_TEST_PG ?? "");
    url.pathname = `/${this.name}`;
    url.search = query;
    return url.href;
  }

  /** A connection to the database (in UTC), creating the database on first use. */
  async sql(): Promise<postgres.Sql> {
    if (!this.#db) {
      this.#admin = postgres(process.env.ACT_SYNC_TEST_PG ?? "", { max: 1, onnotice: () => {} });
      await this.#admin.unsafe(`CREATE DATABASE "${this.name}"`);
      this.#db = postgres(this.url(), {
        max: this.#max,
        onnotice: () => {},
        connection: { TimeZone: "UTC" },
      });
    }
    return this.#db;
  }

  /** Close the connection and drop the database (a no-op when it was never created). */
  async drop(): Promise<void> {
    await this.#db?.end();
    this.#db = undefined;
    if (this.#admin) {
      await this.#admin.unsafe(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
      await this.#admin.end();
      this.#admin = undefined;
    }
  }
}
