// The canary of the runtime-internal fast paths: on the pinned Deno release both probes must
// find their slots, so that an upgrade that renames them is noticed at once. Elsewhere (Bun, or
// GRACEFUL_SERVE_INTERNALS=off) the public-API path is taken and says so in one line.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { _host } from "../../src/runtime/detect.ts";
import { _denoHost, type _DenoLike } from "../../src/runtime/deno/adapter.ts";
import { _gracefulOn } from "../../src/graceful.ts";
import { INTERNALS, INTERNALS_ON } from "./_internals.ts";

const PINNED = (JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as { devDependencies: { deno: string } }).devDependencies.deno;
const deno = (globalThis as { Deno?: _DenoLike }).Deno;

describe("runtime internals", () => {
  it("finds both of Deno's fast paths on the pinned release", () => {
    if (!INTERNALS_ON) return; // Bun, or switched off: the tests below cover that
    assert.equal(deno?.version?.deno, PINNED, "the unit tests run on the pinned Deno");
    assert.equal(typeof INTERNALS.wholeBody, "function", "whole-body slot not found");
    assert.notEqual(INTERNALS.streamSlots, undefined, "stream slots not found");
    assert.equal(_host().fallback, undefined, "no fallback line on the pinned release");
  });

  it("takes the public-API path when switched off, and says so in one line naming the release", () => {
    if (deno === undefined) {
      assert.equal(_host().fallback, undefined, "Bun has no internals to miss");
      return;
    }
    const host = _denoHost(deno, false);
    assert.match(
      host.fallback ?? "",
      new RegExp(`^Deno ${PINNED.replaceAll(".", "\\.")}: runtime internals switched off`),
    );
  });

  it("never reads the body of a response it does not hold on the public-API path", async () => {
    // Reading .body turns a string body into a stream that the runtime must pump through JS.
    const stand = (deno ?? { upgradeWebSocket: () => ({}) }) as _DenoLike;
    let reads = 0;
    let completedReads = 0;
    const g = _gracefulOn(_denoHost(stand, false), (_request: Request, _info: never) => {
      const response = new Response("ok");
      const body = Object.getOwnPropertyDescriptor(Response.prototype, "body")!.get!;
      Object.defineProperty(response, "body", { get: () => (reads++, body.call(response)) });
      return response;
    }, { logger: false, drainDelay: 0, timeout: 1_000 });
    const info = (completed: Promise<void>) => ({
      get completed() {
        completedReads++;
        return completed;
      },
    });
    const seen = () => ({ reads, completedReads, inFlight: g.inFlight });
    // Settles a request's `completed` and lets the library's reaction to it run.
    const deliver = async (completed: PromiseWithResolvers<void>): Promise<void> => {
      completed.resolve();
      await completed.promise;
      await Promise.resolve();
    };
    // With no server attached, nothing else waits for a body: it counts until `completed`.
    const first = Promise.withResolvers<void>();
    g.fetch(new Request("http://test/"), info(first.promise) as never);
    assert.deepEqual(seen(), { reads: 0, completedReads: 1, inFlight: 1 });
    await deliver(first);
    assert.equal(g.inFlight, 0);
    // With a server attached, while serving: the request is over once Deno takes the response
    // (Deno settles `completed` at that hand-over for a string body), and the server's shutdown
    // waits for what it was handed. Neither the body nor `completed` is read.
    const finished = Promise.withResolvers<void>();
    g.attach({ shutdown: () => Promise.resolve(finished.resolve()), finished: finished.promise });
    const response = g.fetch(new Request("http://test/"), info(new Promise(() => {})) as never);
    assert.ok(response instanceof Response);
    assert.deepEqual(seen(), { reads: 0, completedReads: 1, inFlight: 0 });
    // During the drain every response counts until `completed`.
    const report = g.shutdown();
    const last = Promise.withResolvers<void>();
    g.fetch(new Request("http://test/"), info(last.promise) as never);
    assert.deepEqual(seen(), { reads: 0, completedReads: 2, inFlight: 1 });
    await deliver(last);
    assert.equal(g.inFlight, 0);
    assert.equal((await report).exitCode, 0);
  });
});
