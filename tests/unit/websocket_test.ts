import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { graceful, type ShutdownReport } from "../../mod.ts";
import { FakeClock, flush } from "./_fake_clock.ts";

/** A Bun-like ServerWebSocket that records what the library did to it. */
class FakeSocket {
  closed: [number, string][] = [];
  terminated = 0;
  close(code: number, reason: string): void {
    this.closed.push([code, reason]);
  }
  terminate(): void {
    this.terminated++;
  }
}

interface Handlers {
  open(ws: FakeSocket): void;
  message(ws: FakeSocket, message: string): void;
  close(ws: FakeSocket, code: number, reason: string): unknown;
}

function setup(userClose?: (ws: FakeSocket) => unknown) {
  const clock = new FakeClock();
  const g = graceful(() => new Response("ok"), {
    clock,
    logger: false,
    timeout: 5_000,
    streamGrace: 500,
  });
  const seen: string[] = [];
  const handlers = g.websocket<Handlers>({
    open: () => seen.push("open"),
    message: () => seen.push("message"),
    close: (ws) => {
      seen.push("close");
      return userClose?.(ws);
    },
  });
  return { clock, g, handlers, seen };
}

describe("WebSockets", () => {
  it("websocket() rejects handlers Bun would not accept, naming what was wrong", () => {
    const g = graceful(() => new Response("ok"), { logger: false });
    assert.throws(
      () => g.websocket(null as unknown as object),
      /websocket\(\): expected Bun's websocket handlers \(an object with a message function\), received null/,
    );
    assert.throws(
      () => g.websocket({ open() {} }),
      /an object with a message function\), received/,
    );
    assert.throws(
      () => g.websocket({ message() {}, close: 1 }),
      /websocket\(\): "close" must be a function, received 1/,
    );
  });

  it("keeps the user's handlers and options, and counts open sockets in inFlight", () => {
    const { g, handlers, seen } = setup();
    const wrapped = g.websocket({ message() {}, maxPayloadLength: 1024, idleTimeout: 60 });
    assert.equal(wrapped.maxPayloadLength, 1024);
    assert.equal(wrapped.idleTimeout, 60);
    const a = new FakeSocket();
    const b = new FakeSocket();
    handlers.open(a);
    handlers.open(b);
    handlers.message(a, "hi");
    assert.deepEqual([g.inFlight, g.webSockets], [2, 2]);
    handlers.close(a, 1000, "");
    assert.deepEqual([g.inFlight, g.webSockets], [1, 1]);
    assert.deepEqual(seen, ["open", "open", "message", "close"]);
  });

  it("closes open sockets with 1001 after the stream grace and drains once they closed", async () => {
    const { clock, g, handlers } = setup();
    const socket = new FakeSocket();
    handlers.open(socket);
    const settled: { report?: ShutdownReport } = {};
    g.shutdown().then((r) => (settled.report = r));
    await flush();
    assert.equal(g.signal.aborted, true, "the handlers see the signal first");
    await clock.advance(499);
    await flush();
    assert.deepEqual(socket.closed, [], "the grace is for the handler's own goodbye");
    await clock.advance(1);
    await flush();
    assert.deepEqual(socket.closed, [[1001, "server shutting down"]]);
    assert.equal(settled.report, undefined, "the drain waits for the close handshake");
    handlers.close(socket, 1001, "server shutting down");
    await flush();
    const report = settled.report as ShutdownReport | undefined;
    assert.equal(report?.exitCode, 0);
    assert.equal(report?.webSocketsAtStart, 1);
    assert.equal(report?.inFlightAtStart, 1);
    assert.equal(report?.completed, 1);
    assert.equal(socket.terminated, 0);
  });

  it("waits for an async close handler before the socket counts as closed", async () => {
    let finish: () => void = () => {};
    const { clock, g, handlers } = setup(() => new Promise<void>((r) => (finish = r)));
    const socket = new FakeSocket();
    handlers.open(socket);
    const done = g.shutdown();
    await clock.advance(500);
    await flush();
    handlers.close(socket, 1001, "");
    await flush();
    assert.equal(g.webSockets, 1, "still closing");
    finish();
    assert.equal((await done).exitCode, 0);
    assert.equal(g.webSockets, 0);
  });

  it("tells a socket opened after the grace to go away at once", async () => {
    const { clock, g, handlers } = setup();
    const first = new FakeSocket();
    handlers.open(first);
    g.shutdown();
    await clock.advance(500);
    await flush();
    const late = new FakeSocket();
    handlers.open(late);
    assert.deepEqual(late.closed, [[1001, "server shutting down"]]);
  });

  it("drops sockets that never finish the handshake at the deadline and reports them", async () => {
    const { clock, g, handlers } = setup();
    const socket = new FakeSocket();
    handlers.open(socket);
    const done = g.shutdown();
    await flush();
    await clock.advance(5_000);
    await flush();
    await clock.advance(250);
    const report = await done;
    assert.equal(socket.terminated, 1);
    assert.equal(report.timedOut, true);
    assert.equal(report.exitCode, 1);
    assert.deepEqual(report.cutDetail, { handlers: 0, bodies: 0, webSockets: 1 });
    assert.equal(report.cut, 1);
    assert.equal(report.completed, 0);
  });
});
