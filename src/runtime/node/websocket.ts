// WebSockets on Node with @hono/node-ws: its `WebSocketServer` (`wss`, from the `ws` package)
// announces every socket it accepts; each one is tracked from then until its `close` event. A `ws`
// socket already has the close(code, reason) and terminate() the tracker calls.

/** The part of a `ws` WebSocket the library uses. */
export interface _NodeWebSocketLike {
  close(code?: number, reason?: string): void;
  terminate(): void;
  once(event: "close", listener: () => void): unknown;
}

/** The part of what @hono/node-ws's `createNodeWebSocket()` returns that the library uses. */
export interface _NodeWebSocketsLike {
  readonly wss: {
    on(event: "connection", listener: (ws: _NodeWebSocketLike) => void): unknown;
  };
  injectWebSocket(server: never): void;
}

/** Whether `value` looks like what @hono/node-ws's `createNodeWebSocket()` returns. */
export function _isNodeWebSockets(value: unknown): value is _NodeWebSocketsLike {
  const sockets = value as _NodeWebSocketsLike;
  return typeof value === "object" && value !== null &&
    typeof sockets.injectWebSocket === "function" && typeof sockets.wss === "object" &&
    sockets.wss !== null && typeof sockets.wss.on === "function";
}

/** Tracks every socket `sockets.wss` accepts: `opened` at once, `closed` on its `close` event. */
export function _trackNodeWebSockets(
  sockets: _NodeWebSocketsLike,
  opened: (ws: _NodeWebSocketLike) => void,
  closed: (ws: _NodeWebSocketLike) => void,
): void {
  sockets.wss.on("connection", (ws) => {
    opened(ws);
    ws.once("close", () => closed(ws));
  });
}
