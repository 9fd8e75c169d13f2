// The helpers of the per-request path that every runtime shares: the drain's `Connection: close`,
// the test for SSE responses, and the 503 given to handlers still running at the deadline.

/** Adds `Connection: close`, copying the response when its headers are immutable. */
export function _withConnectionClose(response: Response): Response {
  try {
    response.headers.set("connection", "close");
    return response;
  } catch {
    const headers = new Headers(response.headers);
    headers.set("connection", "close");
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}

/**
 * Whether a response is a Server-Sent Events stream the library can end with its final frame
 * (bench/servers/hello.ts measures it alone). An encoded one (gzip, br…) is not: a plain-text
 * frame would corrupt it, and only its handler can finish its compressor, so it is left to its
 * handler and the deadline like any other endless body.
 */
export function _isEventStream(response: Response): boolean {
  const headers = response.headers;
  if (!(headers.get("content-type")?.startsWith("text/event-stream") ?? false)) return false;
  const encoding = headers.get("content-encoding");
  return encoding === null || encoding.trim().toLowerCase() === "identity";
}

/** The answer given to a handler still running at the deadline. */
export function _unavailable(): Response {
  return new Response("Service Unavailable: the server is shutting down\n", {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", "connection": "close" },
  });
}

/** Whether a request has a body that may still be arriving (checked at shutdown, not per request). */
export function _hasBody(request: Request | undefined): boolean {
  if (request === undefined) return false;
  const method = request.method;
  return method !== "GET" && method !== "HEAD" && request.body !== null;
}
