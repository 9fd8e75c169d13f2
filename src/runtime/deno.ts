// Deno adapter. Deno is reached through a small structural type so that this file also
// type-checks under Bun's types; tests/types/deno_types_check.ts checks it against Deno's own.

import type { SignalName } from "../signals.ts";
import type { _Fetch, _Listening, _ListenOptions, Runtime, RuntimeServer } from "./types.ts";

/** The part of `Deno.HttpServer` the library uses. */
export interface DenoServerLike {
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

/** The part of the `Deno` namespace the library uses. */
export interface DenoLike {
  serve(
    options: {
      port: number;
      hostname: string;
      cert?: string;
      key?: string;
      reusePort?: boolean;
      onListen: () => void;
      handler: (request: Request, info: DenoServeHandlerInfoLike) => Response | Promise<Response>;
    },
  ): DenoServerLike & { readonly addr: { hostname: string; port: number } | object };
  upgradeWebSocket(request: Request, options?: object): { response: Response; socket: WebSocket };
  addSignalListener(signal: SignalName, handler: () => void): void;
  removeSignalListener(signal: SignalName, handler: () => void): void;
  exit(code?: number): never;
}

/** The part of `Deno.ServeHandlerInfo` the library uses. */
export interface DenoServeHandlerInfoLike {
  readonly completed: Promise<void>;
}

/** Whether `value` looks like a `Deno.HttpServer`. */
export function _isDenoServer(value: unknown): value is DenoServerLike {
  return typeof value === "object" && value !== null &&
    typeof (value as DenoServerLike).shutdown === "function" &&
    (value as DenoServerLike).finished instanceof Promise;
}

// Sockets made by Deno.upgradeWebSocket, by the request they upgrade, until the server whose
// handler returned the 101 response takes its own (requests are never shared between servers).
const _upgraded = new WeakMap<Request, WebSocket>();
const _TRACKING = Symbol("graceful.upgradeWebSocket");

/**
 * Makes `Deno.upgradeWebSocket` remember each socket by its request, so that sockets made by
 * user code and by Hono's `upgradeWebSocket` are tracked without any change to them. Idempotent;
 * a no-op outside Deno. Deno 2.9: `upgradeWebSocket` is an accessor with a setter (replaceable).
 */
export function _trackDenoUpgrades(): void {
  const deno = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  const original = deno?.upgradeWebSocket;
  if (typeof original !== "function" || _TRACKING in original) return;
  const upgradeWebSocket = (request: Request, options?: object) => {
    const result = original.call(deno, request, options);
    _upgraded.set(request, result.socket);
    return result;
  };
  Object.defineProperty(upgradeWebSocket, _TRACKING, { value: true });
  deno!.upgradeWebSocket = upgradeWebSocket;
}

/** The socket `Deno.upgradeWebSocket` made for `request`, once. */
export function _takeDenoSocket(request: Request): WebSocket | undefined {
  const socket = _upgraded.get(request);
  if (socket !== undefined) _upgraded.delete(request);
  return socket;
}

/** Tells whether a response's body is a string or bytes held whole (nothing left to stream). */
export type _WholeBodyTest = (response: Response) => boolean;

let _wholeBody: _WholeBodyTest | null | undefined;

/** The part of Deno's inner response that holds a static body. */
interface _DenoInnerResponse {
  body?: { streamOrStatic?: { body?: unknown } } | null;
}

/**
 * Deno 2.x keeps the body of a Response made from a string or bytes as that string or bytes: in
 * an internal slot that `Deno.serve` writes out without ever building a `Headers` object
 * (`new Response("ok")`, `Response.json()`, Hono's `c.text()`/`c.json()`/`c.html()`), or else in
 * its inner response (with a status or headers of its own). Reading `response.headers` builds
 * the headers and turns the first path off (measured: ~5% more CPU per request), and reading
 * `info.completed` makes a promise per request. Such a body is finite and handed to the runtime
 * whole when the handler returns (Deno resolves `completed` at that moment too), so it needs
 * neither. Both places are found by their symbols' descriptions and checked on probe responses;
 * when that fails (another runtime, another Deno), this returns undefined and every response
 * takes the general path.
 */
export function _denoWholeBodyTest(): _WholeBodyTest | undefined {
  if (_wholeBody !== undefined) return _wholeBody ?? undefined;
  _wholeBody = null;
  if (!("Deno" in globalThis)) return undefined;
  const symbols = Object.getOwnPropertySymbols(new Response(""));
  const fast = symbols.find((s) => s.description === "serve fast body");
  const inner = symbols.find((s) => s.description === "response");
  if (fast === undefined || inner === undefined) return undefined;
  const staticBody = (response: Response): unknown => {
    const slots = response as unknown as Record<symbol, unknown> | undefined;
    const quick = slots?.[fast];
    if (quick != null) return quick;
    return (slots?.[inner] as _DenoInnerResponse | undefined)?.body?.streamOrStatic?.body;
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
  if (!works) return undefined;
  _wholeBody = whole;
  return whole;
}

/** Wraps a `Deno.HttpServer` for the shutdown sequence. */
export function _denoServer(server: DenoServerLike): RuntimeServer {
  return {
    runtime: "deno",
    waitsForUploads: true,
    // Deno 2.9: shutdown() drops every open WebSocket at once (1001, no handshake).
    closesWebSockets: true,
    close: () => server.shutdown(),
    // Deno 2.9: aborting ServeOptions.signal after shutdown() throws an uncaught BadResource and
    // kills the process, so there is no runtime-level force; the library errors bodies itself.
    force: () => {},
    busy: () => false,
    pending: () => undefined,
  };
}

/** The Deno runtime adapter. */
export function _denoRuntime(): Runtime {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  return {
    name: "deno",
    listen(options: _ListenOptions, fetch: _Fetch): _Listening {
      const server = deno.serve({
        port: options.port,
        hostname: options.hostname,
        ...(options.tls ? { cert: options.tls.cert, key: options.tls.key } : {}),
        ...(options.reusePort ? { reusePort: true } : {}),
        onListen: () => {},
        handler: fetch as (request: Request) => Response,
      });
      const addr = server.addr as { hostname: string; port: number };
      return { server: _denoServer(server), hostname: addr.hostname, port: addr.port };
    },
    onSignal(name: SignalName, listener: () => void): () => void {
      deno.addSignalListener(name, listener);
      return () => deno.removeSignalListener(name, listener);
    },
    process: globalThis,
    exit(code: number): void {
      deno.exit(code);
    },
  };
}

/**
 * What the library reads of a Deno `ReadableStream` to end it in place (Deno only): with these,
 * an open SSE stream costs no second stream (about 2 KiB of heap each on Deno 2.9, see
 * bench/README.md) and no second copy of every chunk.
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

let _slots: _StreamSlots | null | undefined;

/** One symbol-keyed slot of a Deno streams object, found by the symbol's description. */
function _slot(object: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(object).find((s) => s.description === description);
}

/**
 * Deno 2.x implements web streams in JS and keeps their spec slots as symbol-keyed properties
 * (`[[controller]]`, `[[closeRequested]]`, `[[readRequests]]`...). The slots are found by their
 * descriptions and checked on a probe stream, ended the way the library ends one; when anything
 * differs (another runtime, another Deno), this returns undefined and bodies are wrapped instead.
 */
export function _denoStreamSlots(): _StreamSlots | undefined {
  if (_slots !== undefined) return _slots ?? undefined;
  _slots = null;
  if (!("Deno" in globalThis)) return undefined;
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
  // The probe, ended the way the library ends an open stream: the source's own cancel, then a
  // last chunk straight into the waiting read, and the close.
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
  _slots = slots;
  return slots;
}
