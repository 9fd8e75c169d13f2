// The client-gone signal: apart from the shutdown signal, so that work done for one client (a
// proxied request, a long computation) stops when that client leaves, never at a shutdown.

/**
 * A signal that aborts when the client of `request` went away, and never because the server is
 * shutting down: hand it to an upstream `fetch()` or a long computation whose result only this
 * client wants. A shutdown lets such work finish (the drain waits, `timeout` bounds it); the
 * shutdown signal, or `requestSignal()`, is for work that should stop at a shutdown.
 *
 * It is the runtime's own `request.signal`, read only for the requests that ask (on Deno's
 * default mode, reading it costs a few µs per request; Deno then also prints its notice about
 * "legacy behavior" once). Each runtime's behaviour: Bun and Node abort it only when the client
 * went away (or at the deadline, when the connection is cut). Deno aborts it when the client went
 * away and, in its default mode, also once a response was delivered whole, when nothing the
 * response needed can be cancelled any more; with `--unstable-no-legacy-abort` only the former.
 * A client leaving in the middle of a streamed body also cancels that body, which closes an
 * upstream response returned as it is.
 *
 * @param request The handler's `Request`, as the runtime passed it.
 * @returns The request's client-gone signal.
 * @throws {TypeError} when `request` is not a `Request`.
 *
 * @example Proxy without cutting requests at a shutdown
 * ```ts
 * import { clientSignal, serve } from "@graceful/serve";
 *
 * serve((request) => {
 *   const url = new URL(request.url);
 *   // Stops when this client leaves; a SIGTERM lets it finish.
 *   return fetch(new URL(url.pathname, "http://upstream:8080"), {
 *     signal: clientSignal(request),
 *   });
 * });
 * ```
 */
export function clientSignal(request: Request): AbortSignal {
  if (!(request instanceof Request)) {
    throw new TypeError(
      `clientSignal(): expected the handler's Request, received ${
        request === null ? "null" : typeof request
      }`,
    );
  }
  return request.signal;
}
