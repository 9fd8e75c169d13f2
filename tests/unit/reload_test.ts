// A hot-reloaded module's instance replaces the previous one (the registry of src/reload.ts and
// serve()'s process policy), against scripted runtimes. Real `bun --hot` processes are in
// tests/integration/dev_reload_test.ts.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { graceful, type SignalName } from "../../mod.ts";
import { systemClock } from "../../src/clock.ts";
import type { _GracefulServer } from "../../src/graceful.ts";
import { _ownProcess } from "../../src/serve.ts";
import type { _Runtime as Runtime } from "../../src/runtime/types.ts";
import { flush } from "./_fake_clock.ts";
import { denoServer, recorder } from "./_fakes.ts";

/** A runtime whose signals may have several listeners, as a process's do. */
function processRuntime() {
  const listeners = new Map<SignalName, Set<() => void>>();
  const exits: number[] = [];
  const runtime: Runtime = {
    name: "bun",
    listen: () => {
      throw new Error("not used");
    },
    onSignal: (name, listener) => {
      const set = listeners.get(name) ?? new Set();
      listeners.set(name, set.add(listener));
      return () => set.delete(listener);
    },
    exit: (code) => void exits.push(code),
  };
  return {
    runtime,
    exits,
    count: (name: SignalName) => listeners.get(name)?.size ?? 0,
    send: (name: SignalName) => [...listeners.get(name) ?? []].forEach((listener) => listener()),
  };
}

/** One version of the module: a graceful server attached to its own fake, with a hook. */
function version(name: string, ran: string[]) {
  const g = graceful(() => new Response(name), { logger: false, drainDelay: 0 });
  const server = denoServer();
  g.attach(server);
  g.onShutdown(() => void ran.push(name));
  return { g: g as _GracefulServer<() => Response>, server };
}

describe("a reloaded module's instance replaces the previous one", () => {
  it("serve()'s policy: one set of listeners, the last version's hooks, one exit", async () => {
    const rt = processRuntime();
    const logger = recorder();
    const key = {};
    const ran: string[] = [];
    const versions = ["v1", "v2", "v3"].map((name) => {
      const v = version(name, ran);
      const options = { signals: ["SIGTERM", "SIGINT"] as SignalName[], exit: true, key };
      _ownProcess(rt.runtime, v.g, { ...options, logger, clock: systemClock });
      return v;
    });
    assert.equal(rt.count("SIGTERM"), 1);
    assert.equal(rt.count("SIGINT"), 1);
    assert.equal(
      logger.lines.filter((line) => /replaces the previous instance/.test(line)).length,
      2,
    );
    rt.send("SIGTERM");
    const last = versions[2]!;
    last.server.settle();
    const report = await last.g.finished;
    await flush();
    assert.deepEqual(ran, ["v3"]);
    assert.deepEqual(rt.exits, [0], "the exit waits for no replaced instance");
    assert.equal(versions[0]!.g.state, "serving", "a replaced instance never shuts down itself");
    assert.equal(await versions[0]!.g.shutdown(), report, "its shutdown() is the current one's");
    assert.deepEqual(ran, ["v3"]);
  });

  it("graceful() + attach(): the same server attached again hands the shutdown over", async () => {
    const ran: string[] = [];
    const first = graceful(() => new Response("v1"), { logger: false, drainDelay: 0 });
    const second = graceful(() => new Response("v2"), { logger: false, drainDelay: 0 });
    const server = denoServer();
    first.attach(server);
    first.onShutdown(() => void ran.push("v1"));
    second.attach(server);
    second.onShutdown(() => void ran.push("v2"));
    const asked = first.shutdown({ signal: "SIGTERM" });
    server.settle();
    const report = await asked;
    assert.equal(report, await second.finished);
    assert.deepEqual(ran, ["v2"]);
    assert.equal(first.state, "serving");
  });

  it("attaching one server twice to the same instance replaces nothing", async () => {
    const g = graceful(() => new Response("ok"), { logger: false, drainDelay: 0 });
    const server = denoServer();
    g.attach(server);
    g.attach(server);
    const shutdown = g.shutdown();
    server.settle();
    assert.equal((await shutdown).exitCode, 0);
  });

  it("different servers are different instances", async () => {
    const ran: string[] = [];
    const a = version("a", ran);
    const b = version("b", ran);
    const reports = [a.g.shutdown(), b.g.shutdown()];
    a.server.settle();
    b.server.settle();
    await Promise.all(reports);
    assert.deepEqual(ran.sort(), ["a", "b"]);
  });
});
