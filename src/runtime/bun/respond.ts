// The response path of Bun (and of any runtime without a faster one): Bun counts bodies itself
// (`pendingRequests`) and `stop(true)` cuts them, so a request finishes when its handler returns
// and only SSE streams are held, to end them with the final frame.

import { _WrappedBody } from "../../body.ts";
import { _isEventStream, _withConnectionClose } from "../../responses.ts";
import type { _Core, _Respond } from "../types.ts";

/** The response path for `core`. */
export function _bunRespond(core: _Core): _Respond {
  const { tracker, findSse } = core;
  return (response) => {
    // Bun 1.4: reading .body of a string response drops its implied content-type, so no body
    // but an SSE one is touched.
    if (response instanceof Response) {
      if (core.draining()) response = _withConnectionClose(response);
      if (findSse && _isEventStream(response) && response.body !== null) {
        const held = new _WrappedBody(response.body, core.bodySettled);
        core.hold(held, true);
        response = new Response(held.stream, response);
      }
    }
    tracker.finish();
    return response;
  };
}
