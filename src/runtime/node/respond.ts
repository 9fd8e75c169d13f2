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

/** The response path for `core`. */
export function _nodeRespond(core: _Core): _Respond {
  const { tracker, findSse } = core;
  const finish = (): void => tracker.finish();
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
      if (findSse && _isEventStream(response) && response.body !== null) {
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
