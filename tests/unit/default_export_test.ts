// gracefulExport() on Bun when Bun serves the default export without the global Bun.serve: the
// server is taken from the first request (Bun passes it to fetch), with one warning that says so
// and what to use; signals drain what the export's fetch tracks either way. Real processes cover
// the Bun that does call it (tests/integration/default_export_test.ts).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SignalName } from "../../mod.ts";
import { _gracefulExportOn } from "../../src/default_export.ts";
import { _bunDefaultExport } from "../../src/runtime/bun/default_export.ts";
import type { _Runtime as Runtime } from "../../src/runtime/types.ts";
import { recorder } from "./_fakes.ts";

/** A Bun whose default export goes through `serve` (when `viaGlobal`) or around it. */
function fakeBun() {
  const listeners = new Map<SignalName, () => void>();
  const exits: number[] = [];
  const stops: boolean[] = [];
  const server = {
    stop: (force?: boolean) => (stops.push(force === true), Promise.resolve()),
    pendingRequests: 0,
    pendingWebSockets: 0,
    hostname: "127.0.0.1",
    port: 3000,
    // Deno's response path (when the unit tests run on Deno) finishes on info.completed.
    completed: Promise.resolve(),
  };
  const bun = {
    serve(_options: unknown): unknown {
      return server;
    },
  };
  const runtime: Runtime = {
    name: "bun",
    listen: () => {
      throw new Error("not used by gracefulExport()");
    },
    onSignal: (name, listener) => {
      listeners.set(name, listener);
      return () => listeners.delete(name);
    },
    exit: (code) => void exits.push(code),
  };
  /**
   * What Bun's entry point does with the module's default export once the module ran: it reads
   * `fetch`, serves through the global Bun.serve or not, and calls `fetch` with its server.
   */
  const start = (exported: object, viaGlobal: boolean): (r: Request) => Promise<Response> => {
    type Fetch = (r: Request, server: unknown) => Promise<Response>;
    let fetch = (exported as { fetch: Fetch }).fetch;
    if (viaGlobal) {
      bun.serve(exported);
      fetch = (exported as { fetch: Fetch }).fetch;
    }
    return (request) => fetch(request, server);
  };
  return {
    rt: _bunDefaultExport(bun, runtime),
    start,
    exits,
    stops,
    send: (name: SignalName) => listeners.get(name)?.(),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const BYPASS = /served the default export without the global Bun.serve/;

describe("gracefulExport() on a Bun that serves the export around Bun.serve", () => {
  it("takes the server from the first request, warns once, and drains it on SIGTERM", async () => {
    const bun = fakeBun();
    const logger = recorder();
    const release = Promise.withResolvers<void>();
    const exported = _gracefulExportOn(bun.rt, async () => {
      await release.promise;
      return new Response("slow");
    }, { logger, drainDelay: 0 });
    const fetch = bun.start(exported, false);
    await tick();
    assert.deepEqual(logger.lines.filter((line) => BYPASS.test(line)), [], "no request yet");

    const pending = fetch(new Request("http://test/slow"));
    await tick();
    const warnings = logger.lines.filter((line) => BYPASS.test(line));
    assert.equal(warnings.length, 1, logger.lines.join("\n"));
    assert.match(warnings[0]!, /^warn /);
    assert.match(warnings[0]!, /took its server from the first request/);
    assert.match(warnings[0]!, /serve\(app, \{ port \}\)/);
    bun.send("SIGTERM");
    await tick();
    assert.deepEqual(bun.exits, [], "exited with a request in flight");
    release.resolve();
    assert.equal(await (await pending).text(), "slow");
    const report = await exported.finished;
    assert.equal(report.completed, 1);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(bun.exits, [0]);
    assert.equal(bun.stops[0], false, "its listener was closed (stop(false))");
    assert.equal(logger.lines.filter((line) => BYPASS.test(line)).length, 1);
  });

  it("says nothing when Bun hands its server over through Bun.serve, or when fetch is called without one", async () => {
    const bun = fakeBun();
    const logger = recorder();
    const exported = _gracefulExportOn(bun.rt, () => new Response("ok"), {
      logger,
      drainDelay: 0,
    });
    // A test calling the export's fetch itself, as `bun test` may: no server comes with it.
    const called = exported.fetch as unknown as (r: Request, info: unknown) => Promise<Response>;
    await called(new Request("http://test/"), { completed: Promise.resolve() });
    const fetch = bun.start(exported, true);
    await fetch(new Request("http://test/"));
    await tick();
    assert.deepEqual(logger.lines.filter((line) => BYPASS.test(line)), []);
    bun.send("SIGTERM");
    await exported.finished;
    assert.deepEqual(bun.stops.slice(0, 1), [false]);
    assert.deepEqual(bun.exits, [0]);
  });
});
