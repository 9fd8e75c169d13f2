// The Deno response path: when a request is over, and how its body is held so that the deadline
// can cut it (Deno has no force: the library errors bodies itself, RUNTIME_FACTS D6b).

import { _WrappedBody } from "../../body.ts";
import { _isEventStream, _withConnectionClose } from "../../responses.ts";
import type { _Core, _Respond } from "../types.ts";
import { _InPlaceBody } from "./in_place_body.ts";
import type { _DenoInternals } from "./internals.ts";
import { _denoSocket, _takeDenoSocket } from "./websocket.ts";

/** The response path for `core`, with whatever fast paths `internals` offers. */
export function _denoRespond(core: _Core, internals: _DenoInternals): _Respond {
  const { tracker, findSse } = core;
  const { wholeBody, streamSlots } = internals;
  const finish = (): void => tracker.finish();
  const deleteSocket = tracker.deleteSocket.bind(tracker);
  const closingIfDraining = (response: Response): Response =>
    core.draining() ? _withConnectionClose(response) : response;

  /** Holds a body in place (no copy) where Deno's stream allows it; undefined otherwise. */
  const holdInPlace = (response: Response, sse: boolean): _InPlaceBody | undefined => {
    // Without the slots, not even .body is read: it would turn a string body into a stream.
    if (streamSlots === undefined) return undefined;
    const body = response.body;
    const controller = body === null ? undefined : streamSlots.controller(body);
    if (controller === undefined) return undefined;
    const held = new _InPlaceBody(controller, streamSlots, core.bodySettled);
    core.hold(held, sse);
    return held;
  };

  /** Holds a body by wrapping it; the response carries the wrapper. */
  const wrap = (response: Response, sse: boolean, settled = core.bodySettled): Response => {
    const body = response.body;
    if (body === null) return response;
    const held = new _WrappedBody(body, settled);
    core.hold(held, sse);
    // The response itself as the init: status, statusText and headers, with no copy made here.
    return new Response(held.stream, response);
  };

  /** A WebSocket upgrade: the socket counts on its own from here, and the request is over. */
  const upgraded = (response: Response, request: Request | undefined): Response => {
    const socket = request === undefined ? undefined : _takeDenoSocket(request);
    if (socket !== undefined) core.addSocket(_denoSocket(socket, deleteSocket));
    // Deno ≤ 2.5.0 never settles a 101's `completed` (tests/compat/repros/
    // deno_upgrade_completed.ts); later releases settle it at once. Neither is waited for.
    tracker.finish();
    return response;
  };

  /**
   * The public-API path while serving, with a server attached: a request is over when Deno takes
   * its response, which is when Deno settles `info.completed` for a string or bytes body on every
   * supported line (tests/compat/repros/deno_completed_handover.ts). Reacting to `completed` for
   * every response, to see streamed bodies end, costs Deno 2.5.7 more than the whole 7% budget
   * with a Hono app (bench/README.md), so a body streamed before the shutdown is left to the
   * server's own shutdown, which waits for it. Returns undefined for an SSE stream, which
   * `withCompleted` wraps and counts until delivered.
   */
  const handedOver = (response: Response, request: Request | undefined): Response | undefined => {
    if (!(response instanceof Response)) {
      tracker.finish();
      return response;
    }
    if (response.status === 101) return upgraded(response, request);
    if (findSse && _isEventStream(response)) return undefined;
    tracker.finish();
    return response;
  };

  /** With the request's `info.completed`: the request finishes when it settles. */
  const withCompleted = (
    response: Response,
    completed: Promise<unknown>,
    request: Request | undefined,
  ): Response => {
    if (!(response instanceof Response)) {
      completed.then(finish, finish);
      return response;
    }
    if (response.status === 101) return upgraded(response, request);
    const draining = core.draining();
    if (draining) response = _withConnectionClose(response);
    const sse = findSse && _isEventStream(response);
    const inPlace = holdInPlace(response, sse);
    if (inPlace !== undefined) {
      const over = (): void => {
        inPlace.delivered();
        tracker.finish();
      };
      completed.then(over, over);
      return response;
    }
    // A resource-backed or byte stream: wrapping copies every chunk, so only SSE streams and
    // bodies streamed during the drain are wrapped; fixed-length bodies keep their framing. On
    // the public-API path a string body cannot be told from a stream without turning it into
    // one (losing its length), so only SSE responses are wrapped there.
    if (sse || (streamSlots !== undefined && draining && !response.headers.has("content-length"))) {
      response = wrap(response, sse);
    }
    completed.then(finish, finish);
    return response;
  };

  /**
   * With no `info` (a handler declaring no parameters, on Deno's fast path, or a direct call):
   * nothing tells when a streamed body was written, so every streamed body is wrapped and its
   * request finishes with it.
   */
  const blind = (response: Response): Response => {
    if (!(response instanceof Response)) {
      tracker.finish();
      return response;
    }
    response = closingIfDraining(response);
    if (response.body === null) {
      tracker.finish();
      return response;
    }
    return wrap(response, findSse && _isEventStream(response), core.requestSettled);
  };

  return (response, arg, request) => {
    // A string or bytes body is handed over whole: while serving not even its headers are read,
    // and during the drain it only gets Connection: close (it keeps its Content-Length).
    if (wholeBody?.(response)) {
      if (!core.draining()) {
        tracker.finish();
        return response;
      }
      // During the drain, `completed` (when Deno passed it) says the body was handed over: a
      // report must not call it delivered before, e.g. when no server is attached to await.
      response = _withConnectionClose(response);
      const completed = (arg as { completed?: unknown } | undefined)?.completed;
      if (completed instanceof Promise) completed.then(finish, finish);
      else tracker.finish();
      return response;
    }
    if (wholeBody === undefined && !core.draining() && core.attached()) {
      const over = handedOver(response, request);
      if (over !== undefined) return over;
    }
    const completed = (arg as { completed?: unknown } | undefined)?.completed;
    if (completed instanceof Promise) return withCompleted(response, completed, request);
    return blind(response);
  };
}
