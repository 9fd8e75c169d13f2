// gracefulExport() on Bun when Bun serves the default export without the global Bun.serve (its
// server cannot be taken): one warning that says what is lost and what to use, and signals that
// still drain what the export's fetch tracks. Real processes cover the Bun that does call it
// (tests/integration/default_export_test.ts).

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
  const bun = {
    serve(_options: unknown): unknown {
      return {
        stop: (force?: boolean) => (stops.push(force === true), Promise.resolve()),
        pendingRequests: 0,
        pendingWebSockets: 0,
        hostname: "127.0.0.1",
        port: 3000,
      };
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
  /** What Bun's entry point does with the module's default export once the module ran. */
  const start = (exported: object, viaGlobal: boolean): (r: Request) => Promise<Response> => {
    const fetch = (exported as { fetch: (r: Request, info: unknown) => Promise<Response> }).fetch;
    if (viaGlobal) bun.serve(exported);
    // Deno's response path (when the unit tests run on Deno) finishes on info.completed.
    return (request) => fetch(request, { completed: Promise.resolve() });
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
const BYPASS = /served the default export without handing its server over/;

describe("gracefulExport() on a Bun that serves the export around Bun.serve", () => {
  it("warns once what will not be graceful and to use serve(), and still drains on SIGTERM", async () => {
    const bun = fakeBun();
    const logger = recorder();
    const release = Promise.withResolvers<void>();
    const exported = _gracefulExportOn(bun.rt, async () => {
      await release.promise;
      return new Response("slow");
    }, { logger, drainDelay: 0 });
    const fetch = bun.start(exported, false);
    await tick();
    const warnings = logger.lines.filter((line) => BYPASS.test(line));
    assert.equal(warnings.length, 1, logger.lines.join("\n"));
    assert.match(warnings[0]!, /^warn /);
    assert.match(warnings[0]!, /listener stays open/);
    assert.match(warnings[0]!, /serve\(app, \{ port \}\)/);

    const pending = fetch(new Request("http://test/slow"));
    await tick();
    bun.send("SIGTERM");
    await tick();
    assert.deepEqual(bun.exits, [], "exited with a request in flight");
    release.resolve();
    assert.equal(await (await pending).text(), "slow");
    const report = await exported.finished;
    assert.equal(report.completed, 1);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(bun.exits, [0]);
    await tick();
    assert.equal(logger.lines.filter((line) => BYPASS.test(line)).length, 1);
  });

  it("says nothing when Bun hands its server over through Bun.serve, and closes that server", async () => {
    const bun = fakeBun();
    const logger = recorder();
    const exported = _gracefulExportOn(bun.rt, () => new Response("ok"), {
      logger,
      drainDelay: 0,
    });
    bun.start(exported, true);
    await tick();
    assert.deepEqual(logger.lines.filter((line) => BYPASS.test(line)), []);
    bun.send("SIGTERM");
    await exported.finished;
    assert.deepEqual(bun.stops.slice(0, 1), [false]);
    assert.deepEqual(bun.exits, [0]);
  });
});
