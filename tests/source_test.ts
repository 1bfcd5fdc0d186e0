// The one request path of a table's read (src/sync/source.ts): requests counted, a stop
// request turned into StopRequested, the 404 fallback over a list of paths.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { HttpError } from "../src/core/errors.ts";
import type { ListPage, PageSource } from "../src/sync/run_types.ts";
import { CountedSource, firstAnswering, StopRequested } from "../src/sync/source.ts";

/** A source that answers 404 for the paths in `missing` and one row for any other path. */
function fakeSource(missing: string[] = []): PageSource & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    list(path: string): Promise<ListPage> {
      sent.push(path);
      if (missing.includes(path)) {
        return Promise.reject(new HttpError(404, "GET", `http://act${path}`, "Not found"));
      }
      return Promise.resolve({ rows: [{ id: path }], serverDate: null, envelope: "array" });
    },
  };
}

describe("CountedSource", () => {
  test("counts each request, not a request asked again at another path", async () => {
    const source = new CountedSource(fakeSource(), { who: "Test" });
    await source.list("/a", {});
    await source.list("/a", { top: 1 });
    await source.again("/b", {});
    assert.equal(source.requests, 2);
  });

  test("a stopped read sends nothing and throws StopRequested", async () => {
    const controller = new AbortController();
    controller.abort();
    const fake = fakeSource();
    const source = new CountedSource(fake, { signal: controller.signal, who: "Test" });
    await assert.rejects(source.list("/a", {}), StopRequested);
    await assert.rejects(source.again("/a", {}), StopRequested);
    assert.deepEqual(fake.sent, []);
  });

  test("a request that fails while the read is being stopped throws StopRequested", async () => {
    const controller = new AbortController();
    const source = new CountedSource({
      list: () => {
        controller.abort();
        return Promise.reject(new TypeError("The connection was reset"));
      },
    }, { signal: controller.signal, who: "Test" });
    await assert.rejects(source.list("/a", {}), StopRequested);
  });

  test("a failed request of a read not stopped throws its own error", async () => {
    const source = new CountedSource(fakeSource(["/a"]), { who: "Test" });
    await assert.rejects(source.list("/a", {}), (e) => e instanceof HttpError && e.status === 404);
    assert.equal(source.requests, 1);
  });
});

describe("firstAnswering()", () => {
  test("tries the paths in order while they answer 404", async () => {
    const fake = fakeSource(["/a", "/b"]);
    const found = await firstAnswering(["/a", "/b", "/c", "/d"], (path) => fake.list(path));
    assert.equal(found.path, "/c");
    assert.deepEqual(found.answer.rows, [{ id: "/c" }]);
    assert.deepEqual(fake.sent, ["/a", "/b", "/c"]);
  });

  test("throws the last path's 404 and any other error at once", async () => {
    const fake = fakeSource(["/a", "/b"]);
    await assert.rejects(
      firstAnswering(["/a", "/b"], (path) => fake.list(path)),
      (e) => e instanceof HttpError && e.url === "http://act/b",
    );
    let calls = 0;
    await assert.rejects(
      firstAnswering(["/a", "/b"], () => {
        calls++;
        return Promise.reject(new HttpError(500, "GET", "http://act/a", "Boom"));
      }),
      (e) => e instanceof HttpError && e.status === 500,
    );
    assert.equal(calls, 1);
  });
});
