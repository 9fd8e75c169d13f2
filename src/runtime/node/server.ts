// A Node server (`node:http`, `node:https` or `node:http2`) as the shutdown sequence sees it:
// close the listener and idle connections, send HTTP/2 sessions GOAWAY, destroy what is left.

import type { _RuntimeServer } from "../types.ts";

/** An HTTP/2 session as the shutdown sees it. */
export interface _NodeSessionLike {
  /** Sends GOAWAY and closes once the open streams are done. */
  close(): void;
  destroy(): void;
  readonly closed: boolean;
  once(event: "close", listener: () => void): unknown;
}

/** A TLS connection of an HTTP/2 server, as the shutdown sees it. */
export interface _NodeTlsSocketLike {
  /** `"h2"`, or `"http/1.1"` / `false` for a client served HTTP/1.1 (`allowHTTP1`). */
  readonly alpnProtocol: string | false | null;
  destroy(): void;
  once(event: "close", listener: () => void): unknown;
}

/**
 * The part of a `node:http`/`node:https` `Server` or a `node:http2` server the library uses;
 * `closeAllConnections` exists on the first two only.
 */
export interface _NodeServerLike {
  close(callback?: (error?: Error) => void): unknown;
  listen(options: { port: number; host: string; reusePort?: boolean }): unknown;
  address(): { address: string; port: number } | string | null;
  closeIdleConnections?(): void;
  closeAllConnections?(): void;
  on(event: "session", listener: (session: _NodeSessionLike) => void): unknown;
  on(event: "secureConnection", listener: (socket: _NodeTlsSocketLike) => void): unknown;
  once(event: "listening", listener: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

/** Whether `value` looks like a Node `http.Server`, `https.Server` or HTTP/2 server. */
export function _isNodeServer(value: unknown): value is _NodeServerLike {
  const server = value as _NodeServerLike;
  return typeof value === "object" && value !== null && typeof server.close === "function" &&
    typeof server.listen === "function" && typeof server.address === "function" &&
    typeof server.on === "function";
}

/**
 * Wraps a Node server for the shutdown sequence. On an HTTP/2 server, sessions and HTTP/1.1
 * connections (`allowHTTP1`) are followed from here on (a server from serve() is wrapped before
 * it accepts): sessions get GOAWAY when it closes, and the deadline destroys both.
 * `listenError` tells why a server from serve() never listened: its close() then fails with it.
 */
export function _nodeServer(
  server: _NodeServerLike,
  listenError: () => Error | undefined = () => undefined,
): _RuntimeServer {
  const http1 = typeof server.closeAllConnections === "function";
  const sessions = new Set<_NodeSessionLike>();
  // Node offers no closeAllConnections() on an HTTP/2 server for its HTTP/1.1 clients.
  const http1Sockets = new Set<_NodeTlsSocketLike>();
  if (!http1) {
    server.on("session", (session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
    server.on("secureConnection", (socket) => {
      if (socket.alpnProtocol === "h2") return;
      http1Sockets.add(socket);
      socket.once("close", () => http1Sockets.delete(socket));
    });
  }
  return {
    runtime: "node",
    waitsForUploads: false,
    // Node 22: close() waits for upgraded sockets instead of dropping them.
    closesWebSockets: false,
    // close() settles once every connection closed: busy ones end after a response that carries
    // Connection: close (the library adds it), idle ones are closed at once (Node ≥19).
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => {
          // A server that never listened, or was closed by its owner already.
          const failed = listenError();
          if (failed) reject(new Error(`it never listened: ${failed.message}`, { cause: failed }));
          else if (error && (error as { code?: string }).code !== "ERR_SERVER_NOT_RUNNING") {
            reject(error);
          } else resolve();
        });
        // An HTTP/2 server with allowHTTP1 closes its idle HTTP/1.1 connections in close() itself.
        server.closeIdleConnections?.();
        // GOAWAY: open streams finish, new ones are refused; the session closes after them.
        for (const session of sessions) session.close();
      }),
    force: () => {
      server.closeAllConnections?.();
      for (const session of sessions) session.destroy();
      for (const socket of http1Sockets) socket.destroy();
    },
    // A connection whose response began before the drain (so without Connection: close) stays
    // open for keep-alive after it: let go of it once nothing is counted.
    settleIdle: () => server.closeIdleConnections?.(),
    pending: () => undefined,
  };
}
