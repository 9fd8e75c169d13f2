// The response path of Node with @hono/node-server: the request finishes when its ServerResponse
// closes (written to the end, or the socket gone), so no body is copied to learn when it is over;
// only SSE streams are held, to end them with the final frame, as on Bun.

import { _WrappedBody } from "../../body.ts";
import { _isEventStream, _withConnectionClose } from "../../responses.ts";
import type { _Core, _Respond } from "../types.ts";

/** The part of a `ServerResponse` (or `Http2ServerResponse`) the response path uses. */
export interface _NodeOutgoingLike {
  on(event: "close", listener: () => void): unknown;
  /** HTTP/1 (Node ≥18): the response closed already. */
  readonly closed?: boolean;
  readonly destroyed?: boolean;
}

/** The second argument @hono/node-server passes to `fetch` (its `HttpBindings`). */
export interface _NodeBindingsLike {
  readonly incoming?: { readonly httpVersionMajor?: number };
  readonly outgoing?: _NodeOutgoingLike;
}

/** Removes a connection header, where the headers can be changed (the library's own 503). */
function _withoutConnection(response: Response): void {
  try {
    response.headers.delete("connection");
  } catch {
    // Immutable headers (a fetch() response passed through): Node drops the header itself.
  }
}

/**
 * The key of the body cache of @hono/node-server's own Response (the global one once it serves):
 * `[status, body, headers]`, kept until something reads more than that. Reading `.headers` turns
 * the headers into a Headers object that the server then turns back, a few microseconds per
 * request; a cached body that is not a stream cannot be an SSE stream, so its headers need not be
 * read. Found by probing a response of `Response`; null where there is no such cache (Node's own
 * Response, or a release of @hono/node-server that changed it: every response is then checked).
 */
export function _nodeBodyCache(Response: typeof globalThis.Response): symbol | null {
  const probe = new Response("probe", { headers: { "content-type": "text/event-stream" } });
  for (const key of Object.getOwnPropertySymbols(probe)) {
    const cache = (probe as unknown as Record<symbol, unknown>)[key];
    if (
      key.description === "cache" && Array.isArray(cache) && cache.length === 3 &&
      cache[1] === "probe"
    ) return key;
  }
  return null;
}

/** Logged once when the body cache cannot be used: every response's headers are then read. */
export const _NODE_PUBLIC_PATH =
  "Node: every response's content type is read to find SSE streams (public APIs only)";

/**
 * The response path for `core`. With `internals`, the body cache of @hono/node-server spares the
 * content-type read of responses that cannot be streams; `core.info` says once when it is not there.
 */
export function _nodeRespond(core: _Core, internals = true): _Respond {
  const { tracker, findSse } = core;
  const finish = (): void => tracker.finish();
  // Probed at the first response: @hono/node-server installs its Response when it makes a server.
  let bodyCache: symbol | null | undefined = internals ? undefined : null;
  // Said only where it costs something: with sseFinalFrame false no content type is read at all.
  if (!internals && findSse) core.info(`${_NODE_PUBLIC_PATH}: runtime internals switched off`);
  const mayBeStream = (response: Response): boolean => {
    if (bodyCache === undefined) {
      bodyCache = _nodeBodyCache(globalThis.Response);
      if (bodyCache === null) core.info(`${_NODE_PUBLIC_PATH}: no body cache found on Response`);
    }
    if (bodyCache === null) return true;
    const cached = (response as unknown as Record<symbol, unknown[] | undefined>)[bodyCache];
    return cached === undefined ||
      typeof (cached[1] as { getReader?: unknown } | null)?.getReader === "function";
  };
  return (response, arg) => {
    const bindings = arg as _NodeBindingsLike | undefined;
    // Static methods such as Response.json() still make Node's own Response once
    // @hono/node-server has replaced the global one, so test the shape, not the class.
    if (typeof response === "object" && response !== null && "headers" in response) {
      // HTTP/2 forbids connection headers (Node warns and drops them); GOAWAY does that work
      // there, so the deadline's 503 loses its `Connection: close` on HTTP/2.
      if (core.draining()) {
        if ((bindings?.incoming?.httpVersionMajor ?? 1) < 2) {
          response = _withConnectionClose(response);
        } else if (response.headers.has("connection")) _withoutConnection(response);
      }
      if (findSse && mayBeStream(response) && _isEventStream(response) && response.body !== null) {
        const held = new _WrappedBody(response.body, core.bodySettled);
        core.hold(held, true);
        response = new Response(held.stream, response);
      }
    }
    const outgoing = bindings?.outgoing;
    if (outgoing === undefined || outgoing.closed === true || outgoing.destroyed === true) {
      finish();
    } else {
      // `close` follows `finish`, and also comes when the client went away mid-body.
      outgoing.on("close", finish);
    }
    return response;
  };
}
