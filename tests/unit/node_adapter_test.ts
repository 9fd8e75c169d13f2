// The Node adapter's pure logic on fakes: when a request finishes (its ServerResponse closing),
// Connection: close during the drain (never on HTTP/2), and what close/force/settleIdle ask of a
// Node server.

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { _gracefulOn } from "../../src/graceful.ts";
import { _InFlight } from "../../src/in_flight.ts";
import { _nodeHost } from "../../src/runtime/node/adapter.ts";
import { _NODE_PUBLIC_PATH, _nodeRespond } from "../../src/runtime/node/respond.ts";
import { _isNodeServer, _nodeServer } from "../../src/runtime/node/server.ts";
import type { _Core } from "../../src/runtime/types.ts";

function core(
  draining = false,
): _Core & { tracker: _InFlight; held: number; logged: string[] } {
  const tracker = new _InFlight();
  const c = {
    tracker,
    held: 0,
    logged: [] as string[],
    findSse: true,
    attached: () => true,
    draining: () => draining,
    hold: () => void c.held++,
    bodySettled: () => {},
    requestSettled: () => {},
    addSocket: () => {},
    info: (message: string) => void c.logged.push(message),
  };
  return c;
}

/** An SSE response of the runtime's own Response class. */
const sse = (): Response =>
  new Response(new ReadableStream(), { headers: { "content-type": "text/event-stream" } });

/** A ServerResponse-like emitter; `closed` as Node ≥18 reports it. */
function outgoing(closed = false): EventEmitter & { closed: boolean } {
  return Object.assign(new EventEmitter(), { closed });
}

/** An http.Server-like fake that records what the adapter asked of it. */
function httpServer(closeError?: { code: string }) {
  const calls: string[] = [];
  const server = Object.assign(new EventEmitter(), {
    listen: () => {},
    address: () => null,
    close: (callback?: (error?: Error) => void) => {
      calls.push("close");
      queueMicrotask(() => callback?.(closeError as Error | undefined));
    },
    closeIdleConnections: () => calls.push("closeIdleConnections"),
    closeAllConnections: () => calls.push("closeAllConnections"),
  });
  return { server, calls };
}

describe("the Node response path", () => {
  it("finishes a request when its ServerResponse closes, not when the handler returns", () => {
    const c = core();
    c.tracker.start();
    const res = outgoing();
    _nodeRespond(c)(new Response("ok"), { outgoing: res }, undefined);
    assert.equal(c.tracker.requests, 1);
    res.emit("close");
    assert.equal(c.tracker.requests, 0);
  });

  it("tracks a response of another class (the Response @hono/node-server installs) like any", () => {
    class LightResponse {
      readonly status = 200;
      readonly headers = new Headers();
      readonly body = null;
    }
    const g = _gracefulOn(
      _nodeHost(),
      (_request: Request, _env: never) => new LightResponse() as unknown as Response,
      { logger: false },
    );
    const res = outgoing();
    g.fetch(new Request("http://test/"), { outgoing: res } as never);
    assert.equal(g.inFlight, 1, "counted until its ServerResponse closes");
    res.emit("close");
    assert.equal(g.inFlight, 0);
  });

  it("finishes at once when the response closed already or there is no ServerResponse", () => {
    const c = core();
    c.tracker.start();
    c.tracker.start();
    const respond = _nodeRespond(c);
    respond(new Response("ok"), { outgoing: outgoing(true) }, undefined);
    respond(new Response("ok"), undefined, undefined);
    assert.equal(c.tracker.requests, 0);
  });

  it("adds Connection: close during the drain on HTTP/1 only", () => {
    const c = core(true);
    const respond = _nodeRespond(c);
    const http1 = respond(new Response("ok"), { incoming: { httpVersionMajor: 1 } }, undefined)!;
    const http2 = respond(new Response("ok"), { incoming: { httpVersionMajor: 2 } }, undefined)!;
    assert.equal(http1.headers.get("connection"), "close");
    assert.equal(http2.headers.get("connection"), null);
  });

  it("without @hono/node-server's body cache, says so once and reads every content type", () => {
    // The runtime's own Response has no such cache: the public-API path, as on a changed release.
    const c = core();
    const respond = _nodeRespond(c);
    respond(sse(), {}, undefined);
    respond(sse(), {}, undefined);
    assert.equal(c.held, 2, "both SSE bodies held");
    assert.deepEqual(c.logged, [`${_NODE_PUBLIC_PATH}: no body cache found on Response`]);
  });

  it("with internals switched off, never probes the cache and says so once, at the start", () => {
    const c = core();
    const respond = _nodeRespond(c, false);
    assert.deepEqual(c.logged, [`${_NODE_PUBLIC_PATH}: runtime internals switched off`]);
    respond(sse(), {}, undefined);
    respond(sse(), {}, undefined);
    assert.equal(c.held, 2);
    assert.equal(c.logged.length, 1, "nothing probed, so nothing found missing");
  });

  it("with sseFinalFrame false says nothing of the content type, which it never reads", () => {
    const c = { ...core(), findSse: false };
    _nodeRespond(c, false)(sse(), {}, undefined);
    assert.deepEqual(c.logged, []);
  });

  it("adds no Connection header while serving", () => {
    const response = _nodeRespond(core(false))(new Response("ok"), {}, undefined)!;
    assert.equal(response.headers.get("connection"), null);
  });
});

describe("a Node server in the shutdown", () => {
  it("is recognised by listen, close and address, and Deno/Bun servers are not", () => {
    assert.equal(_isNodeServer(httpServer().server), true);
    assert.equal(_isNodeServer({ stop: () => {}, pendingRequests: 0 }), false);
    assert.equal(_isNodeServer(null), false);
  });

  it("closes the listener and idle connections; force closes all; settleIdle closes idle", async () => {
    const { server, calls } = httpServer();
    const adapted = _nodeServer(server);
    await adapted.close();
    assert.deepEqual(calls, ["close", "closeIdleConnections"]);
    adapted.settleIdle();
    adapted.force();
    assert.deepEqual(calls.slice(2), ["closeIdleConnections", "closeAllConnections"]);
    assert.equal(adapted.pending(), undefined);
  });

  it("treats a server that was not running as closed, and rejects other close errors", async () => {
    await _nodeServer(httpServer({ code: "ERR_SERVER_NOT_RUNNING" }).server).close();
    await assert.rejects(_nodeServer(httpServer({ code: "EOTHER" }).server).close());
  });

  it("sends each open HTTP/2 session GOAWAY on close and destroys them on force", async () => {
    const server = Object.assign(new EventEmitter(), {
      listen: () => {},
      address: () => null,
      close: (callback?: () => void) => queueMicrotask(() => callback?.()),
    });
    const adapted = _nodeServer(server);
    const calls: string[] = [];
    const session = (name: string) =>
      Object.assign(new EventEmitter(), {
        closed: false,
        close: () => calls.push(`${name}.close`),
        destroy: () => calls.push(`${name}.destroy`),
      });
    const a = session("a");
    const b = session("b");
    server.emit("session", a);
    server.emit("session", b);
    b.emit("close");
    await adapted.close();
    adapted.force();
    assert.deepEqual(calls, ["a.close", "a.destroy"]);
  });
});
