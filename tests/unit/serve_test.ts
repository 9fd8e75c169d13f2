// serve()'s policy layer (signals, exit codes) against a scripted runtime. The real runtimes are
// exercised by tests/integration with real processes and real signals.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SignalName } from "../../mod.ts";
import { _serveOn } from "../../src/serve.ts";
import type {
  _Runtime as Runtime,
  _RuntimeServer as RuntimeServer,
} from "../../src/runtime/types.ts";
import { FakeClock, flush } from "./_fake_clock.ts";
import { recorder } from "./_fakes.ts";

function scriptedRuntime(name: "deno" | "bun" = "bun", process?: object) {
  const listeners = new Map<SignalName, () => void>();
  const exits: number[] = [];
  const closed = Promise.withResolvers<void>();
  const calls: string[] = [];
  const server: RuntimeServer = {
    runtime: name,
    waitsForUploads: false,
    closesWebSockets: false,
    close: () => {
      calls.push("close");
      return closed.promise;
    },
    force: () => {
      calls.push("force");
      closed.resolve();
    },
    settleIdle: () => undefined,
    pending: () => 0,
  };
  const listened: Parameters<Runtime["listen"]>[0][] = [];
  const runtime: Runtime = {
    name,
    ...(process ? { process } : {}),
    listen: (options) => {
      listened.push(options);
      return { server, hostname: options.hostname, port: 4321 };
    },
    onSignal: (name, listener) => {
      listeners.set(name, listener);
      return () => listeners.delete(name);
    },
    exit: (code) => {
      exits.push(code);
    },
  };
  return {
    runtime,
    listened,
    listeners,
    exits,
    calls,
    settle: () => closed.resolve(),
    send: (name: SignalName) => listeners.get(name)?.(),
  };
}

const ok = () => new Response("ok");

describe("serve()", () => {
  it("hands Bun its websocket handlers wrapped, keeping the user's options", () => {
    const rt = scriptedRuntime("bun");
    const message = (): void => {};
    const server = _serveOn(rt.runtime, ok, {
      logger: false,
      websocket: { message, maxPayloadLength: 4096 },
    });
    const given = rt.listened[0]!.websocket as Record<string, unknown>;
    assert.equal(given.message, message);
    assert.equal(given.maxPayloadLength, 4096);
    (given.open as (ws: object) => void)({ close() {}, terminate() {} });
    assert.equal(server.webSockets, 1);
  });

  it("passes idleTimeout to Bun, and says on Deno that it has no effect there", () => {
    const bun = scriptedRuntime("bun");
    _serveOn(bun.runtime, ok, { logger: false, idleTimeout: 0 });
    assert.equal(bun.listened[0]!.idleTimeout, 0);
    const deno = scriptedRuntime("deno");
    const lines: string[] = [];
    const logger = { info() {}, warn: (m: string) => lines.push(m), error() {} };
    _serveOn(deno.runtime, ok, { logger, idleTimeout: 30 });
    assert.deepEqual(lines, [
      'serve(): "idleTimeout" has no effect on deno (it has no idle timeout)',
    ]);
  });

  it("refuses websocket handlers on Deno, where upgrades are tracked without them", () => {
    const rt = scriptedRuntime("deno");
    assert.throws(
      () => _serveOn(rt.runtime, ok, { logger: false, websocket: { message() {} } }),
      /serve\(\): "websocket" handlers are for Bun.serve; on deno, sockets made by Deno.upgradeWebSocket/,
    );
    assert.equal(rt.listened.length, 0, "nothing listens after a bad option");
  });

  it("reports the bound address and installs SIGTERM and SIGINT handlers", () => {
    const rt = scriptedRuntime();
    const server = _serveOn(rt.runtime, ok, { port: 0, hostname: "127.0.0.1", logger: false });
    assert.equal(server.port, 4321);
    assert.equal(server.url.href, "http://127.0.0.1:4321/");
    assert.deepEqual([...rt.listeners.keys()], ["SIGTERM", "SIGINT"]);
  });

  it("takes a port written as digits, as it comes from the environment", () => {
    const rt = scriptedRuntime();
    _serveOn(rt.runtime, ok, { port: "8080", logger: false });
    assert.equal(rt.listened[0]?.port, 8080);
  });

  it("names the address when the runtime cannot listen on it", () => {
    const rt = scriptedRuntime();
    const busy: Runtime = {
      ...rt.runtime,
      listen: () => {
        throw new Error("Address already in use (os error 98)");
      },
    };
    assert.throws(
      () => _serveOn(busy, ok, { port: 8000, hostname: "127.0.0.1", logger: false }),
      /^Error: serve\(\): cannot listen on 127\.0\.0\.1:8000: Address already in use/,
    );
  });

  it("a listen error after serve() returned (Node) reaches stderr even with logger: false", async () => {
    const rt = scriptedRuntime();
    const failed = Promise.reject(new Error("listen EADDRINUSE: address already in use"));
    const late: Runtime = {
      ...rt.runtime,
      listen: (options, fetch) => ({ ...rt.runtime.listen(options, fetch), bound: failed }),
    };
    const printed: unknown[][] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => void printed.push(args);
    try {
      const server = _serveOn(late, ok, {
        port: 8000,
        hostname: "127.0.0.1",
        logger: false,
        exit: false,
      });
      rt.settle();
      // (The exit code comes from the Node server's failing close(), not faked here.)
      assert.equal((await server.finished).reason, "the server could not listen");
    } finally {
      console.error = error;
    }
    assert.deepEqual(printed, [[
      "[graceful] error: serve(): cannot listen on 127.0.0.1:8000: " +
      "listen EADDRINUSE: address already in use",
    ]]);
  });

  it("drains on the first signal, removes its handlers and exits 0", async () => {
    const rt = scriptedRuntime();
    const server = _serveOn(rt.runtime, ok, { logger: false, drainDelay: 0 });
    rt.send("SIGTERM");
    assert.equal(server.state, "draining");
    assert.deepEqual(rt.calls, ["close"], "drainDelay 0 closes the listener first, at once");
    rt.settle();
    const report = await server.finished;
    await flush();
    assert.equal(report.signal, "SIGTERM");
    assert.deepEqual(rt.exits, [0]);
    assert.equal(rt.listeners.size, 0, "signal handlers removed");
  });

  it("exits the process once the last of its servers finished, with the worst code", async () => {
    const process = {};
    const a = scriptedRuntime("bun", process);
    const b = scriptedRuntime("bun", process);
    const first = _serveOn(a.runtime, ok, { logger: false });
    const second = _serveOn(b.runtime, ok, { logger: false, timeout: 50 });
    a.send("SIGTERM");
    b.send("SIGTERM");
    a.settle();
    await first.finished;
    await flush();
    assert.deepEqual([...a.exits, ...b.exits], [], "the other server is still draining");
    // The second one never drains: its deadline cuts it (exit code 1), and Bun is forced.
    const report = await second.finished;
    await flush();
    assert.equal(report.exitCode, 1);
    assert.deepEqual([...a.exits, ...b.exits], [1], "one exit, with the worst code");
  });

  it("exits at once with 128 + n on a second signal during the drain", async () => {
    for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
      const rt = scriptedRuntime();
      const clock = new FakeClock();
      _serveOn(rt.runtime, ok, { logger: false, clock });
      rt.send(signal);
      await clock.advance(1_000);
      assert.deepEqual(rt.exits, []);
      rt.send(signal);
      assert.deepEqual(rt.exits, [code]);
    }
  });

  it("takes the same signal again within a second as the same stop request", async () => {
    const rt = scriptedRuntime();
    const clock = new FakeClock();
    const log = recorder();
    _serveOn(rt.runtime, ok, { logger: log, clock });
    rt.send("SIGTERM");
    await clock.advance(999);
    rt.send("SIGTERM");
    rt.send("SIGINT");
    assert.deepEqual(rt.exits, [], "a forwarded copy is not a second signal");
    assert.equal(log.lines.filter((l) => l.includes("shutdown under way continues")).length, 2);
    await clock.advance(1);
    rt.send("SIGTERM");
    assert.deepEqual(rt.exits, [143], "after the window a second signal still forces the exit");
  });

  it("joins a signal to a shutdown begun by shutdown(), and honours a later one", async () => {
    const rt = scriptedRuntime();
    const clock = new FakeClock();
    const server = _serveOn(rt.runtime, ok, { logger: false, clock });
    server.shutdown({ reason: "POST /shutdown" });
    await clock.advance(10);
    rt.send("SIGTERM");
    assert.deepEqual(rt.exits, [], "the orchestrator's SIGTERM joins the running shutdown");
    await clock.advance(1_000);
    rt.send("SIGTERM");
    assert.deepEqual(rt.exits, [143]);
  });

  it("does not exit when exit is false, and a second signal cuts the drain short", async () => {
    const rt = scriptedRuntime();
    const clock = new FakeClock();
    const server = _serveOn(rt.runtime, () => new Promise<Response>(() => {}), {
      logger: false,
      exit: false,
      clock,
    });
    const pending = (server.fetch as (r: Request, i: never) => Promise<Response>)(
      new Request("http://test/"),
      undefined as never,
    );
    rt.send("SIGINT");
    await clock.advance(1_000);
    rt.send("SIGINT");
    assert.equal((await pending).status, 503);
    let done = false;
    server.finished.then(() => done = true);
    for (let i = 0; i < 10 && !done; i++) await clock.advance(100);
    const report = await server.finished;
    assert.equal(report.timedOut, true);
    assert.equal(report.cut, 1);
    assert.ok(rt.calls.includes("force"));
    await flush();
    assert.deepEqual(rt.exits, []);
  });

  it("installs no signal handler when signals is empty", () => {
    const rt = scriptedRuntime();
    _serveOn(rt.runtime, ok, { logger: false, signals: [] });
    assert.equal(rt.listeners.size, 0);
  });
});
