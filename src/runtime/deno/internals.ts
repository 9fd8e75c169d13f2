// The one door to Deno's internals. Everything else in the library uses public APIs only; the
// reads here are optimisations, found by probe, each with a public-API path behind it.
//
// Slots read (symbol-keyed properties, found by the symbol's description):
//   Response:               "response" (→ .body.streamOrStatic.body), and "serve fast body"
//                           where it exists (Deno 2.8.3+; the whole-body test works without it)
//   ReadableStream:         "[[controller]]", "[[state]]", "[[reader]]", "[[resourceBacking]]"
//   ReadableStreamDefaultController: "[[closeRequested]]", "[[cancelAlgorithm]]", "[[stream]]"
//   ReadableStreamDefaultReader:     "[[readRequests]]"
// Checked on: Deno 2.2.15, 2.5.7, 2.7.14, 2.8.3, 2.9.5 (tests/compat/repros/deno_internals.ts).
// When a probe fails (another release, or GRACEFUL_SERVE_INTERNALS=off): `_denoInternals()`
// returns what it found (possibly nothing) and the caller takes the public-API path (bodies
// counted until `info.completed`, only SSE bodies wrapped) and logs one line saying so.

/** Tells whether a response's body is a string or bytes held whole (nothing left to stream). */
export type _WholeBodyTest = (response: Response) => boolean;

/**
 * What the library reads of a Deno `ReadableStream` to end it in place: with these, an open SSE
 * stream costs no second stream and no second copy of every chunk.
 */
export interface _StreamSlots {
  /**
   * The default controller of `stream`, when the stream can be ended in place: a stream made by
   * JS code (not backed by a runtime resource, whose bytes Deno reads without JS) with a default
   * source; undefined otherwise.
   */
  controller(
    stream: ReadableStream<Uint8Array>,
  ): ReadableStreamDefaultController<Uint8Array> | undefined;
  /** Whether the source may still enqueue or close: neither closed nor errored, no close asked. */
  open(controller: ReadableStreamDefaultController<Uint8Array>): boolean;
  /** Whether the stream's reader (the runtime's) is waiting for a chunk: nothing is queued. */
  waiting(controller: ReadableStreamDefaultController<Uint8Array>): boolean;
  /**
   * Runs the stream's cancel algorithm (its source's `cancel`, which lets the handler clean up)
   * while the stream is still open: closing or erroring it clears the algorithm. Undefined when
   * there is none left.
   */
  cancelSource(
    controller: ReadableStreamDefaultController<Uint8Array>,
    reason: unknown,
  ): Promise<void> | undefined;
}

/** What the probes found on this Deno. */
export interface _DenoInternals {
  wholeBody: _WholeBodyTest | undefined;
  streamSlots: _StreamSlots | undefined;
}

let _found: _DenoInternals | undefined;

/** Probes once per process; later calls return the same answer. */
export function _denoInternals(): _DenoInternals {
  _found ??= { wholeBody: _probeWholeBody(), streamSlots: _probeStreamSlots() };
  return _found;
}

/** The part of Deno's inner response that holds a static body. */
interface _InnerResponse {
  body?: { streamOrStatic?: { body?: unknown } } | null;
}

/**
 * Deno keeps the body of a Response made from a string or bytes as that string or bytes: in its
 * inner response, and from 2.8.3 on first in a slot that `Deno.serve` writes out without ever
 * building a `Headers` object (`new Response("ok")`, `c.text()`). Such a body is finite and handed over whole when the handler returns, so it needs neither
 * its headers read nor `info.completed` (which makes a promise per request).
 */
function _probeWholeBody(): _WholeBodyTest | undefined {
  const symbols = Object.getOwnPropertySymbols(new Response(""));
  const fast = symbols.find((s) => s.description === "serve fast body");
  const inner = symbols.find((s) => s.description === "response");
  if (inner === undefined) return undefined;
  const staticBody = (response: Response): unknown => {
    const slots = response as unknown as Record<symbol, unknown> | undefined;
    const quick = fast === undefined ? undefined : slots?.[fast];
    if (quick != null) return quick;
    return (slots?.[inner] as _InnerResponse | undefined)?.body?.streamOrStatic?.body;
  };
  const whole = (response: Response): boolean => {
    const body = staticBody(response);
    return typeof body === "string" || body instanceof Uint8Array;
  };
  const touched = new Response("probe");
  touched.headers.get("content-type");
  const works = staticBody(new Response("probe")) === "probe" &&
    staticBody(new Response("probe", { status: 299, headers: { "x-probe": "1" } })) === "probe" &&
    staticBody(touched) === "probe" &&
    whole(new Response(new Uint8Array(1), { status: 299 })) &&
    !whole(new Response(new ReadableStream())) &&
    !whole(new Response(null, { status: 204 }));
  return works ? whole : undefined;
}

/** One symbol-keyed slot, found by the symbol's description. */
function _slot(object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((s) => s.description === description);
}

/** Finds the stream slots and checks them on a probe stream ended the way the library ends one. */
function _probeStreamSlots(): _StreamSlots | undefined {
  let probeController: ReadableStreamDefaultController<Uint8Array> | undefined;
  let probeCancelled: unknown;
  const probe = new ReadableStream<Uint8Array>({
    start(c) {
      probeController = c;
    },
    cancel(reason) {
      probeCancelled = reason;
    },
  });
  if (probeController === undefined) return undefined;
  const stream = probe as unknown as Record<symbol, unknown>;
  const controllerOf = _slot(probe, "[[controller]]");
  const stateOf = _slot(probe, "[[state]]");
  const readerOf = _slot(probe, "[[reader]]");
  const backing = _slot(probe, "[[resourceBacking]]");
  const closeRequested = _slot(probeController, "[[closeRequested]]");
  const cancelAlgorithm = _slot(probeController, "[[cancelAlgorithm]]");
  const streamOf = _slot(probeController, "[[stream]]");
  const reader = probe.getReader();
  const readRequests = _slot(reader, "[[readRequests]]");
  if (
    controllerOf === undefined || stateOf === undefined || readerOf === undefined ||
    backing === undefined || closeRequested === undefined || cancelAlgorithm === undefined ||
    streamOf === undefined || readRequests === undefined
  ) {
    return undefined;
  }
  type Slots = Record<symbol, unknown>;
  const slotsOf = (value: unknown): Slots => value as Slots;
  const streamOfController = (c: ReadableStreamDefaultController<Uint8Array>): Slots =>
    slotsOf(slotsOf(c)[streamOf]);
  const slots: _StreamSlots = {
    controller(body) {
      const s = slotsOf(body);
      const c = s[controllerOf];
      if (s[backing] != null || !(c instanceof ReadableStreamDefaultController)) return undefined;
      return c as ReadableStreamDefaultController<Uint8Array>;
    },
    open(c) {
      return slotsOf(c)[closeRequested] === false && streamOfController(c)[stateOf] === "readable";
    },
    waiting(c) {
      const requests = slotsOf(streamOfController(c)[readerOf])?.[readRequests] as
        | { size?: unknown }
        | undefined;
      return typeof requests?.size === "number" && requests.size > 0;
    },
    cancelSource(c, reason) {
      const algorithm = slotsOf(c)[cancelAlgorithm];
      // Deno 2.9 calls it as controller[[[cancelAlgorithm]]](reason, controller).
      return typeof algorithm === "function" ? algorithm.call(c, reason, c) : undefined;
    },
  };
  reader.read().catch(() => {});
  const c = slots.controller(probe);
  if (c !== probeController || stream[stateOf] !== "readable" || !slots.open(c)) return undefined;
  if (!slots.waiting(c)) return undefined;
  slots.cancelSource(c, "probe")?.catch(() => {});
  if (probeCancelled !== "probe") return undefined;
  c.enqueue(new Uint8Array(1));
  c.close();
  const state: unknown = stream[stateOf];
  if (state !== "closed" || slots.open(c) || slots.waiting(c)) return undefined;
  return slots;
}
