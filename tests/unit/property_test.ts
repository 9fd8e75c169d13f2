// Property test: thousands of random request lifecycles against graceful(), with a fake runtime
// server and a simulated clock. No real sockets, no real timers: every schedule is deterministic
// given its seed, so a failure replays exactly, on either runtime.
//
//   node_modules/.bin/deno test --allow-all tests/unit/property_test.ts
//   node_modules/.bin/bun test tests/unit/property_test.ts
//
// Environment: GRACEFUL_SEED (the run's seed; random when unset, printed at the start),
// GRACEFUL_SCHEDULES (how many schedules, default 10000), GRACEFUL_SCHEDULE (run only this index).
//
// What a schedule does: a Deno-style server (requests counted until `info.completed`), a
// Bun-style one (`pendingRequests`, `stop(true)`, which may never settle), or none is attached;
// requests arrive at random times and answer at once, answer later, never answer, stream a finite
// or endless body, stream SSE that ignores or honours the shutdown signal, throw, reject, error
// their body after responding, read an upload, or call shutdown() themselves; clients read at
// full speed or slowly, cancel after a few chunks, or leave at a random moment; shutdown() is
// called at a random moment, sometimes twice; cleanup hooks resolve, throw, reject, hang past their
// timeout, or call shutdown() again.
//
// What must hold, in every schedule:
// - `inFlight` equals what the fake runtime counts (running handlers and responses still being
//   delivered) after every event, and returns to 0 once everything ended; no timer is left;
// - `shutdown()` settles by its bound: timeout + 2 × the force grace (100 ms) + the hook timeouts;
//   when nothing was cut it settles exactly when the last request ended (or the lame-duck delay
//   did) plus the hooks' own durations: no polling, no fixed sleep;
// - the report adds up: inFlightAtStart is what was in flight when shutdown() was first called;
//   cut is what was in flight at the deadline (handlers and bodies as such), completed the rest;
//   exitCode is 1 iff timedOut or a hook failed; each hook's outcome matches what it did;
// - no request accepted before the listener closed is lost without being counted as cut: every
//   client ends with a complete response, the error its own handler caused, its own cancel, or
//   (only if it was in flight at the deadline) a 503, a broken body, or a connection still open
//   when the process would exit; a body that did not end is never made to look complete; an
//   upload accepted while the listener is open is never broken by its closing (modelled after
//   RUNTIME_FACTS D9 for as long as the Deno adapter says `waitsForUploads`);
// - responses produced after the shutdown began carry `Connection: close`, earlier ones do not;
//   an SSE response still open when the stream grace ends is ended then, with the final frame
//   after whole events, and its source cancelled, unless its handler ended it first (then no
//   frame of the library's follows the handler's own last event); with `sseFinalFrame: false`
//   no SSE response is ended by the library: it ends by its handler or like any endless body.

import { after, describe, it } from "node:test";
import process from "node:process";
import { setImmediate } from "node:timers";
import {
  type Clock,
  type Graceful,
  graceful,
  type HookReport,
  type Logger,
  ShutdownError,
  type ShutdownReport,
  type TimerId,
} from "../../mod.ts";
import { _denoServer } from "../../src/runtime/deno/adapter.ts";
import { _isEventStream } from "../../src/responses.ts";
import { gracefulDeno, INTERNALS } from "./_internals.ts";

/** `_FORCE_GRACE_MS` in src/shutdown.ts: waited at most twice after the deadline. */
const FORCE_GRACE_MS = 100;
/** `_AUTO_DRAIN_MAX_MS` and `_AUTO_DRAIN_QUIET_MS` in src/shutdown.ts: the automatic lame duck. */
const AUTO_DRAIN_MAX_MS = 300;
const AUTO_DRAIN_QUIET_MS = 20;
/** `_AUTO_DRAIN_BUSY_QUIET_MS`: the quiet needed once requests arrived during the lame duck. */
const AUTO_DRAIN_BUSY_QUIET_MS = 100;
/** Ordering margin: the model looks at the state this long before the deadline fires. */
const EPSILON = 1e-6;
/** The library's own test for bodies Deno takes whole (undefined on Bun). */
const WHOLE_BODY = INTERNALS.wholeBody;
/** Deno's public-API path: no whole-body test, so a body is counted only until Deno takes it. */
const PUBLIC_DENO = WHOLE_BODY === undefined;
/**
 * An SSE stream (in place on Deno, or wrapped) is ended only while the runtime's read waits, and
 * asked again every END_RETRY_MS until it does.
 */
const END_RETRY_MS = 10;
const DEFAULT_FRAME = "retry: 1000\n\n";
const CUSTOM_FRAME = "event: end\ndata: bye\n\n";
const SERVICE_UNAVAILABLE = "Service Unavailable: the server is shutting down\n";

// ---------------------------------------------------------------------------------------------
// Randomness

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.#next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }
}

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be an integer >= 0, received ${JSON.stringify(raw)}`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Schedules

/**
 * deno: an attached Deno-style server, requests counted until `info.completed`; bun: an attached
 * Bun-style server counting `pendingRequests`; none: no server attached, Deno-style `info`.
 */
type Mode = "deno" | "bun" | "none";
type Kind =
  | "fixed"
  | "redirect"
  | "async"
  | "hang"
  | "stream"
  | "endless"
  | "sse"
  | "sseCoop"
  | "throw"
  | "reject"
  | "bodyError"
  | "upload"
  | "shutdownInside";
type ClientPlan = "read" | "slow" | "abort" | "leave";
type HookBehaviour = "ok" | "async" | "throw" | "reject" | "hang" | "slow" | "reentrant";

interface RequestPlan {
  /** Arrival time. */
  at: number;
  kind: Kind;
  /** Handler delay (async, reject, shutdownInside), or the SSE handler's delay to end itself. */
  delay: number;
  /** Body chunks (stream, bodyError, upload). */
  chunks: number;
  /** Milliseconds between chunks. */
  interval: number;
  client: ClientPlan;
  /** Slow client: milliseconds before each read. */
  readDelay: number;
  /** Aborting client: chunks read before it cancels. */
  abortAfter: number;
  /** Leaving client: when it goes away. */
  leaveAt: number;
}

interface HookPlan {
  behaviour: HookBehaviour;
  /** For async, reject and slow: when it settles, from its start. */
  delay: number;
  /** Its own timeout option, or undefined for the schedule's hookTimeout. */
  timeout: number | undefined;
}

interface Schedule {
  mode: Mode;
  timeout: number;
  /** A fixed lame duck, or "auto" (the option left out: up to 300 ms, over after 20 quiet ms). */
  drainDelay: number | "auto";
  streamGrace: number;
  hookTimeout: number;
  customFrame: boolean;
  /** `sseFinalFrame: false`: the library does not look for SSE responses. */
  sseOff: boolean;
  /** When shutdown() is called from outside (it may have started earlier, from a handler). */
  shutdownAt: number;
  /** A second outside call, which must return the same promise. */
  secondShutdownAt: number | undefined;
  /** Bun-style only: stop(true) never settles (Bun issue 40043). */
  forceHangs: boolean;
  hooks: HookPlan[];
  requests: RequestPlan[];
}

// Time grid: the outside shutdown comes at whole milliseconds and the library's timers follow it
// on the same grid; requests arrive at .5 and their own delays are whole milliseconds; a handler
// that calls shutdown() arrives on a grid of its own (.25 + k/64). So no request event created
// before the shutdown ties with a library timer, and the model's look just before the deadline
// sees exactly what the library will find.

const KINDS: readonly Kind[] = [
  "fixed",
  "fixed",
  "redirect",
  "async",
  "async",
  "async",
  "hang",
  "stream",
  "stream",
  "endless",
  "sse",
  "sseCoop",
  "throw",
  "reject",
  "bodyError",
  "upload",
  "upload",
  "shutdownInside",
];

function generate(rng: Random): Schedule {
  const mode = rng.pick<Mode>(["deno", "deno", "deno", "bun", "bun", "bun", "none"]);
  const timeout = rng.int(50, 1_200);
  const drainDelay = mode !== "none" && rng.chance(0.2)
    ? "auto"
    : rng.chance(0.3)
    ? rng.int(1, timeout - 1)
    : 0;
  const lameDuck = drainDelay === "auto" ? AUTO_DRAIN_MAX_MS : drainDelay;
  let streamGrace = rng.chance(0.2) ? 0 : rng.int(1, 1_400);
  if (streamGrace === timeout) streamGrace++;
  const shutdownAt = rng.int(0, 800);
  const hooks: HookPlan[] = [];
  for (let i = rng.int(0, 3); i > 0; i--) {
    hooks.push({
      behaviour: rng.pick<HookBehaviour>([
        "ok",
        "ok",
        "async",
        "throw",
        "reject",
        "hang",
        "slow",
        "reentrant",
      ]),
      delay: rng.int(0, 300) + 0.5,
      timeout: rng.chance(0.5) ? rng.int(1, 300) : undefined,
    });
  }
  const requests: RequestPlan[] = [];
  for (let k = rng.int(0, 9) - 1; k >= 0; k--) {
    const kind = rng.pick(KINDS);
    // A handler calling shutdown() may start the deadline clock: each gets a grid of its own.
    const grid = kind === "shutdownInside" ? 0.25 + k / 64 : 0.5;
    // Most arrive shortly before the shutdown (in flight when it begins), the rest during the
    // lame duck and the drain, or after the listener closed.
    const at = grid +
      (rng.chance(0.65)
        ? Math.max(0, shutdownAt - rng.int(1, 500))
        : shutdownAt + rng.int(0, lameDuck + 300));
    const chunks = rng.int(1, 5);
    requests.push({
      at,
      kind,
      delay: rng.chance(0.1) ? 0 : rng.int(1, Math.round(timeout * 1.5)),
      chunks,
      interval: rng.int(20, 250),
      client: rng.pick<ClientPlan>(["read", "read", "slow", "abort", "leave"]),
      readDelay: rng.int(1, 150),
      abortAfter: rng.int(0, chunks),
      leaveAt: at + rng.int(0, 1_500) + 0.5 - grid,
    });
  }
  return {
    mode,
    timeout,
    drainDelay,
    streamGrace,
    hookTimeout: rng.int(1, 400),
    customFrame: rng.chance(0.3),
    sseOff: rng.chance(0.2),
    shutdownAt,
    secondShutdownAt: rng.chance(0.25) ? shutdownAt + rng.int(0, 1_500) + 0.5 : undefined,
    forceHangs: rng.chance(0.5),
    hooks,
    requests,
  };
}

// ---------------------------------------------------------------------------------------------
// Simulated clock

interface SimTimer {
  id: number;
  at: number;
  fn: () => void;
  /** Created by the schedule (true) or by the library through the Clock interface (false). */
  own: boolean;
}

/** Lets every pending promise callback run: one macrotask turn (setImmediate is not clamped). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A Clock whose time moves only when the schedule runs it. Like tests/unit/_fake_clock.ts, but it
 * settles promises with setImmediate (a few µs) instead of setTimeout(0), which both runtimes
 * clamp to 1–2 ms: too slow for ten thousand schedules.
 */
class SimClock implements Clock {
  #now = 0;
  #next = 1;
  #timers: SimTimer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    return this.#add(this.#now + ms, fn, false);
  }

  clearTimeout(id: TimerId): void {
    const index = this.#timers.findIndex((t) => t.id === id);
    if (index >= 0) this.#timers.splice(index, 1);
  }

  /** A schedule event `ms` from now. */
  after(ms: number, fn: () => void): void {
    this.#add(this.#now + ms, fn, true);
  }

  /** A schedule event at `time` (not in the past). */
  at(time: number, fn: () => void): void {
    this.#add(Math.max(time, this.#now), fn, true);
  }

  /** Library timers still pending. */
  get libraryTimers(): number {
    return this.#timers.filter((t) => !t.own).length;
  }

  /** Time of the next timer, or Infinity. */
  get nextAt(): number {
    return this.#timers[0]?.at ?? Infinity;
  }

  /** Fires the next timer (moving time to it) and settles promises; false when there is none. */
  async step(): Promise<boolean> {
    const timer = this.#timers.shift();
    if (timer === undefined) return false;
    this.#now = timer.at;
    timer.fn();
    await settle();
    return true;
  }

  #add(at: number, fn: () => void, own: boolean): number {
    const timer = { id: this.#next++, at, fn, own };
    // Sorted by time, then creation order (a timer created later fires later at the same time).
    let index = this.#timers.length;
    while (index > 0 && this.#timers[index - 1]!.at > at) index--;
    this.#timers.splice(index, 0, timer);
    return timer.id;
  }
}

// ---------------------------------------------------------------------------------------------
// One schedule, run against graceful()

class Violation extends Error {
  override name = "Violation";
}

/** What the client saw in the end. */
type Outcome =
  | "refused" // arrived after the listener closed
  | "done" // a body read to its clean end
  | "error" // the body broke while reading
  | "cancelled" // the client itself cancelled or left
  | "failed" // the handler threw or rejected: the runtime answered 500
  | "reset"; // the runtime dropped the connection (Bun's stop(true))

class SourceError extends Error {
  override name = "SourceError";
}
class HandlerError extends Error {
  override name = "HandlerError";
}

interface Live {
  id: number;
  plan: RequestPlan;
  accepted: boolean;
  /** Accepted after the shutdown began. */
  duringDrain: boolean;
  async: boolean;
  innerSettled: boolean;
  /** The shutdown had begun when the handler's own promise settled (or when it returned). */
  expectClose: boolean;
  response: Response | undefined;
  producedAt: number | undefined;
  /** Gone from the runtime's count (see Sim.#end). */
  ended: boolean;
  /**
   * Deno's public-API path: handed over while serving and not an SSE stream, so over for the
   * library at once; the server's shutdown still waits for its body.
   */
  uncounted: boolean;
  endedAt: number | undefined;
  completed: PromiseWithResolvers<void> | undefined;
  clientGone: boolean;
  reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** The runtime's reads of the body so far, and whether the last one is still waiting. */
  reads: number;
  readWaiting: boolean;
  text: string;
  chunksRead: number;
  outcome: Outcome | undefined;
  error: unknown;
  sourceCancelled: boolean;
  sourceCancelReason: unknown;
  /** A cooperative SSE handler ended its stream itself. */
  sourceClosedByHandler: boolean;
  /** Upload: the handler has read the whole request body. */
  uploadRead: boolean;
  /** Upload: the runtime broke the request body by closing the listener first (Deno). */
  uploadBroken: boolean;
  uploadError: ((error: Error) => void) | undefined;
  /** Still open when the report came out (the process would exit with it). */
  openAtExit: boolean;
}

interface Probe {
  count: number;
  handlers: number;
  ids: Set<number>;
  /** Only bodies the library does not count were in flight (Deno's public-API path). */
  uncountedOnly: boolean;
}

const encoder = new TextEncoder();

/** Whether the library keeps Deno's listener open until uploads arrived (see RUNTIME_FACTS D9). */
const DENO_BREAKS_UPLOADS = _denoServer({
  shutdown: () => Promise.resolve(),
  finished: Promise.resolve(),
}).waitsForUploads;

class Sim {
  readonly clock = new SimClock();
  readonly plan: Schedule;
  readonly g: Graceful;
  readonly lines: string[] = [];
  readonly reqs: Live[];
  #byRequest = new Map<Request, Live>();
  violation: Violation | undefined;
  shutdownAt: number | undefined;
  shutdownPromise: Promise<ShutdownReport> | undefined;
  reason = "shutdown() called";
  atStart = 0;
  startedDuring = 0;
  listenerClosedAt: number | undefined;
  closeCalls = 0;
  probe: Probe | undefined;
  probed = false;
  finishedAt: number | undefined;
  report: ShutdownReport | undefined;
  #closeWaiters: (() => void)[] = [];
  #bunServer: object | undefined;

  constructor(plan: Schedule) {
    this.plan = plan;
    const lines = this.lines;
    const logger: Logger = {
      info: (m) => lines.push(`${this.clock.now()} info ${m}`),
      warn: (m) => lines.push(`${this.clock.now()} warn ${m}`),
      error: (m) => lines.push(`${this.clock.now()} error ${m}`),
    };
    const make = plan.mode === "bun" ? graceful : gracefulDeno;
    this.g = make((request: Request) => this.#handle(request), {
      clock: this.clock,
      logger,
      timeout: plan.timeout,
      ...(plan.drainDelay === "auto" ? {} : { drainDelay: plan.drainDelay }),
      streamGrace: plan.streamGrace,
      hookTimeout: plan.hookTimeout,
      ...(plan.sseOff
        ? { sseFinalFrame: false as const }
        : plan.customFrame
        ? { sseFinalFrame: CUSTOM_FRAME }
        : {}),
    });
    this.reqs = plan.requests.map((p, id) => ({
      id,
      plan: p,
      accepted: false,
      duringDrain: false,
      async: false,
      innerSettled: false,
      expectClose: false,
      uncounted: false,
      response: undefined,
      producedAt: undefined,
      ended: false,
      endedAt: undefined,
      completed: undefined,
      clientGone: false,
      reader: undefined,
      text: "",
      chunksRead: 0,
      outcome: undefined,
      error: undefined,
      reads: 0,
      readWaiting: false,
      sourceCancelled: false,
      sourceCancelReason: undefined,
      sourceClosedByHandler: false,
      uploadRead: false,
      uploadBroken: false,
      uploadError: undefined,
      openAtExit: false,
    }));
    this.#attach();
    plan.hooks.forEach((h, i) => this.#register(h, i));
  }

  check(condition: unknown, message: string): asserts condition {
    if (!condition) {
      const violation = new Violation(`t=${this.clock.now()}: ${message}`);
      this.violation ??= violation;
      throw violation;
    }
  }

  /** Requests the runtime counts as in flight now. */
  count(): number {
    let n = 0;
    for (const r of this.reqs) if (r.accepted && !r.ended) n++;
    return n;
  }

  /** Those the library counts (the model of `inFlight`). */
  counted(): number {
    let n = 0;
    for (const r of this.reqs) if (r.accepted && !r.ended && !r.uncounted) n++;
    return n;
  }

  get finalFrame(): string {
    return this.plan.customFrame ? CUSTOM_FRAME : DEFAULT_FRAME;
  }

  // -- the fake runtime server ---------------------------------------------------------------

  #attach(): void {
    const mode = this.plan.mode;
    if (mode === "deno") {
      const finished = Promise.withResolvers<void>();
      this.g.attach({
        finished: finished.promise,
        shutdown: () => {
          this.#guard(() => this.#closeListener());
          // RUNTIME_FACTS D9 (Deno 2.9): a request body still arriving can no longer be read once
          // shutdown() ran. Modelled as long as the library's Deno adapter says so.
          for (const r of this.reqs) {
            if (
              DENO_BREAKS_UPLOADS && r.accepted && r.plan.kind === "upload" && !r.uploadRead &&
              r.uploadError
            ) {
              r.uploadBroken = true;
              r.uploadError(new Error("BadResource: the request body was closed by shutdown()"));
            }
          }
          const closed = this.#whenIdle();
          closed.then(finished.resolve);
          return closed;
        },
      });
    } else if (mode === "bun") {
      const count = (): number => this.count();
      this.#bunServer = {
        get pendingRequests(): number {
          return count();
        },
        pendingWebSockets: 0,
        stop: (force?: boolean): Promise<void> => {
          if (!force) {
            this.#guard(() => this.#closeListener());
            return this.#whenIdle();
          }
          this.#forceAll();
          return this.plan.forceHangs ? new Promise<void>(() => {}) : Promise.resolve();
        },
      };
      this.g.attach(this.#bunServer);
    }
  }

  #closeListener(): void {
    this.closeCalls++;
    this.check(this.closeCalls === 1, "the listener was closed twice");
    this.check(this.shutdownAt !== undefined, "the listener was closed before the shutdown");
    const now = this.clock.now();
    const since = now - this.shutdownAt;
    if (this.plan.drainDelay !== "auto") {
      this.check(
        since >= this.plan.drainDelay,
        `the listener closed before the lame-duck delay (${this.plan.drainDelay} ms) ended`,
      );
    } else {
      // The automatic lame duck ends after the first quiet window in which no request arrived,
      // or at its cap. Bun closes the listener right then; Deno may wait for uploads first.
      const ends = this.#autoLameDuckEnd();
      this.check(
        this.plan.mode === "bun" ? since === ends : since >= ends,
        `the listener closed ${since} ms after the shutdown began; the automatic lame duck ` +
          `ended after ${ends} ms`,
      );
    }
    this.listenerClosedAt = now;
  }

  /** When the automatic lame duck ends, in ms from the shutdown, given the arrivals so far. */
  #autoLameDuckEnd(): number {
    const S = this.shutdownAt!;
    const cap = Math.min(AUTO_DRAIN_MAX_MS, this.plan.timeout / 2);
    const arrivals = this.reqs.filter((r) => r.accepted).map((r) => r.plan.at - S);
    let t = 0;
    let quiet = AUTO_DRAIN_QUIET_MS;
    while (t < cap) {
      const next = t + Math.min(quiet, cap - t);
      const busy = arrivals.some((at) => at > t && at < next);
      t = next;
      if (!busy) break;
      quiet = AUTO_DRAIN_BUSY_QUIET_MS;
    }
    return t;
  }

  #whenIdle(): Promise<void> {
    if (this.count() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#closeWaiters.push(resolve));
  }

  /** Bun's stop(true): every connection is dropped now. */
  #forceAll(): void {
    for (const r of this.reqs) {
      if (!r.accepted || r.ended) continue;
      r.clientGone = true;
      if (r.outcome === undefined) {
        r.outcome = "reset";
        r.reader?.cancel(new Error("connection reset")).catch(() => {});
      }
      this.#end(r);
    }
  }

  /** The request leaves the runtime's count (Deno: info.completed settles). */
  #end(r: Live): void {
    if (r.ended) return;
    r.ended = true;
    r.endedAt = this.clock.now();
    r.completed?.resolve();
    if (this.count() === 0) {
      const waiters = this.#closeWaiters;
      this.#closeWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #listenerClosed(): boolean {
    if (this.plan.mode !== "none") return this.listenerClosedAt !== undefined;
    // Without a server, the user's own listener is taken to close after the lame-duck delay.
    return this.shutdownAt !== undefined &&
      this.clock.now() >= this.shutdownAt + (this.plan.drainDelay as number);
  }

  #arrive(r: Live): void {
    if (this.#listenerClosed()) {
      r.outcome = "refused";
      return;
    }
    r.accepted = true;
    if (this.shutdownAt !== undefined) {
      r.duringDrain = true;
      r.expectClose = true;
      this.startedDuring++;
    }
    let request: Request;
    if (r.plan.kind === "upload") {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        start: (controller) => {
          r.uploadError = (error) => {
            try {
              controller.error(error);
            } catch {
              // Already complete.
            }
          };
        },
        pull: (controller) =>
          new Promise<void>((resolve) => {
            this.clock.after(r.plan.interval, () => {
              try {
                if (sent < r.plan.chunks) {
                  controller.enqueue(new Uint8Array(100));
                  sent++;
                } else {
                  controller.close();
                }
              } catch {
                // Errored by the runtime meanwhile.
              }
              resolve();
            });
          }),
      }, { highWaterMark: 0 });
      request = new Request(`http://sim/${r.id}`, {
        method: "POST",
        body,
        duplex: "half",
      } as RequestInit);
    } else {
      request = new Request(`http://sim/${r.id}`);
    }
    this.#byRequest.set(request, r);
    let arg: unknown;
    if (this.plan.mode === "bun") {
      arg = this.#bunServer;
    } else {
      r.completed = Promise.withResolvers<void>();
      arg = { completed: r.completed.promise };
    }
    if (r.plan.client === "leave") this.clock.at(r.plan.leaveAt, () => this.#leave(r));
    let result: Response | Promise<Response | undefined> | undefined;
    try {
      result = this.g.fetch(request, arg as never);
    } catch (error) {
      this.#failed(r, error);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.#guard(() => this.#deliver(r, response)),
        (error: unknown) => this.#guard(() => this.#failed(r, error)),
      );
    } else {
      this.#deliver(r, result);
    }
  }

  #failed(r: Live, error: unknown): void {
    this.check(
      error instanceof HandlerError || r.plan.kind === "upload",
      `request ${r.id}: fetch failed with something its handler did not throw: ${error}`,
    );
    this.check(r.outcome === undefined, `request ${r.id}: failed after it ended (${r.outcome})`);
    r.outcome = "failed";
    r.error = error;
    this.#end(r);
  }

  #deliver(r: Live, response: Response | undefined): void {
    this.check(response instanceof Response, `request ${r.id}: fetch gave ${response}`);
    this.check(r.response === undefined, `request ${r.id}: answered twice`);
    r.response = response;
    r.producedAt = this.clock.now();
    r.uncounted = PUBLIC_DENO && this.plan.mode === "deno" && this.shutdownAt === undefined &&
      !r.expectClose && !(!this.plan.sseOff && _isEventStream(response));
    // Deno takes a string or bytes body whole when the handler returns (its completed settles
    // then) and writes it into the socket at once, whatever the client's reading pace.
    const whole = this.plan.mode !== "bun" && WHOLE_BODY?.(response) === true;
    const close = response.headers.get("connection") === "close";
    if (r.expectClose || response.status === 503) {
      this.check(
        close,
        `request ${r.id}: a response produced during the drain lacks Connection: close`,
      );
    }
    if (close) {
      this.check(
        this.shutdownAt !== undefined,
        `request ${r.id}: Connection: close before the shutdown`,
      );
    }
    if (r.outcome !== undefined) {
      // Bun's stop(true) dropped the connection while the handler ran.
      response.body?.cancel().catch(() => {});
      return;
    }
    if (r.clientGone) {
      response.body?.cancel(new Error("client left")).catch(() => {});
      r.outcome = "cancelled";
      this.#end(r);
      return;
    }
    if (response.body === null) {
      r.outcome = "done";
      this.#end(r);
      return;
    }
    if (whole) {
      response.text().then((text) =>
        this.#guard(() => {
          if (r.outcome !== undefined) return;
          r.text = text;
          r.outcome = "done";
          this.#end(r);
        })
      );
      return;
    }
    this.#pump(r, response.body).catch((error: unknown) => {
      if (!(error instanceof Violation)) this.violation ??= new Violation(String(error));
    });
  }

  /** The runtime writes the body to the client at the client's pace. */
  async #pump(r: Live, body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    r.reader = reader;
    const decoder = new TextDecoder();
    for (;;) {
      if (r.plan.client === "slow") await this.#delay(r.plan.readDelay);
      if (r.outcome !== undefined) return;
      if (r.plan.client === "abort" && r.chunksRead >= r.plan.abortAfter) {
        this.#leave(r);
        return;
      }
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        const read = reader.read();
        this.#watchRead(r);
        chunk = await read;
        r.readWaiting = false;
      } catch (error) {
        r.readWaiting = false;
        if (r.outcome === undefined) {
          r.outcome = "error";
          r.error = error;
          this.#end(r);
        }
        return;
      }
      if (r.outcome !== undefined) return;
      if (chunk.done) {
        r.outcome = "done";
        this.#end(r);
        return;
      }
      r.text += decoder.decode(chunk.value, { stream: true });
      r.chunksRead++;
    }
  }

  /**
   * After the stream grace, a read that still waits END_RETRY_MS later on an open SSE stream the
   * handler did not end means the library missed it (it ends a stream only while the runtime's
   * read waits, in place or wrapped, asking again every END_RETRY_MS).
   */
  #watchRead(r: Live): void {
    const read = ++r.reads;
    r.readWaiting = true;
    if (this.plan.sseOff || !r.plan.kind.startsWith("sse")) return;
    if (this.shutdownAt === undefined) return;
    if (this.plan.streamGrace >= this.plan.timeout) return;
    const graceOver = this.shutdownAt + this.plan.streamGrace;
    const at = Math.max(this.clock.now(), graceOver) + END_RETRY_MS + EPSILON;
    if (at >= this.shutdownAt + this.plan.timeout) return;
    this.clock.at(at, () => {
      if (this.report !== undefined || r.reads !== read || !r.readWaiting || r.ended) return;
      this.check(
        r.sourceCancelled || r.sourceClosedByHandler,
        `request ${r.id} (${r.plan.kind}): the runtime's read waited ${END_RETRY_MS} ms after ` +
          `the stream grace, and the SSE response was not ended`,
      );
    });
  }

  /** The client goes away (a cancel, or a closed connection). */
  #leave(r: Live): void {
    if (r.outcome !== undefined || r.clientGone) return;
    r.clientGone = true;
    if (r.response === undefined) return; // the runtime notices once the handler answers
    r.outcome = "cancelled";
    r.reader?.cancel(new Error("client left")).catch(() => {});
    this.#end(r);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (!(error instanceof Violation)) this.violation ??= new Violation(String(error));
    }
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.after(ms, resolve));
  }

  // -- the application ------------------------------------------------------------------------

  #handle(request: Request): Response | Promise<Response> {
    const r = this.#byRequest.get(request);
    this.check(r !== undefined, "the handler got a request the runtime did not send");
    const p = r.plan;
    switch (p.kind) {
      case "fixed":
        return new Response(`fixed ${r.id}`);
      case "redirect":
        return Response.redirect(`http://sim/elsewhere/${r.id}`, 302);
      case "async":
        return this.#inner(r, this.#delay(p.delay).then(() => new Response(`async ${r.id}`)));
      case "hang":
        return this.#inner(r, new Promise<Response>(() => {}));
      case "stream":
        return new Response(this.#source(r, p.chunks, "close"));
      case "endless":
        return new Response(this.#source(r, Infinity, "close"));
      case "bodyError":
        return new Response(this.#source(r, p.chunks, "error"));
      case "sse":
      case "sseCoop":
        return new Response(this.#sse(r, p.kind === "sseCoop"), {
          headers: { "content-type": "text/event-stream; charset=utf-8" },
        });
      case "throw":
        throw new HandlerError(`handler ${r.id} threw`);
      case "reject":
        return this.#inner(
          r,
          this.#delay(p.delay).then(() => {
            throw new HandlerError(`handler ${r.id} rejected`);
          }),
        );
      case "upload":
        return this.#inner(r, this.#readUpload(r, request));
      case "shutdownInside": {
        this.shutdown("POST /shutdown");
        r.expectClose = true;
        const second = this.g.shutdown();
        this.check(second === this.shutdownPromise, "shutdown() in a handler: another promise");
        if (p.delay === 0) return new Response(`bye ${r.id}`);
        return this.#inner(r, this.#delay(p.delay).then(() => new Response(`bye ${r.id}`)));
      }
    }
  }

  #inner(r: Live, promise: Promise<Response>): Promise<Response> {
    r.async = true;
    // Registered before the library's own callbacks, so this runs first.
    promise.then(
      () => this.#innerSettled(r),
      () => this.#innerSettled(r),
    );
    return promise;
  }

  #innerSettled(r: Live): void {
    r.innerSettled = true;
    if (this.shutdownAt !== undefined) r.expectClose = true;
  }

  async #readUpload(r: Live, request: Request): Promise<Response> {
    const reader = request.body!.getReader();
    let bytes = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
    }
    r.uploadRead = true;
    return new Response(`got ${bytes}`);
  }

  /** A body of `chunks` pieces (Infinity: endless), one every `interval` ms, pulled. */
  #source(r: Live, chunks: number, end: "close" | "error"): ReadableStream<Uint8Array> {
    let j = 0;
    let cancelled = false;
    return new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise<void>((resolve) => {
          this.clock.after(j === 0 ? 0 : r.plan.interval, () => {
            if (!cancelled) {
              try {
                if (j < chunks) controller.enqueue(encoder.encode(`c${j++};`));
                else if (end === "close") controller.close();
                else controller.error(new SourceError(`body ${r.id} failed`));
              } catch {
                // The consumer went away meanwhile.
              }
            }
            resolve();
          });
        }),
      cancel: (reason) => {
        cancelled = true;
        r.sourceCancelled = true;
        r.sourceCancelReason = reason;
      },
    }, { highWaterMark: 0 });
  }

  /**
   * An endless SSE body; a cooperative one ends itself `delay` ms after the shutdown signal. One
   * in two others is eager and careless, like Hono's stream helpers: it keeps a chunk queued
   * ahead (highWaterMark 1), and a pull that was running when its stream was ended or cancelled
   * still enqueues, failing the pull (which errors the stream if it is not closed yet).
   */
  #sse(r: Live, cooperative: boolean): ReadableStream<Uint8Array> {
    let j = 0;
    let cancelled = false;
    let closed = false;
    const careless = !cooperative && r.id % 2 === 1;
    const signal = this.g.signal;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (!cooperative) return;
        const bye = (): void => {
          this.clock.after(r.plan.delay, () => {
            if (cancelled || closed) return;
            closed = true;
            r.sourceClosedByHandler = true;
            try {
              controller.enqueue(encoder.encode(`event: bye\ndata: ${r.id}\n\n`));
              controller.close();
            } catch {
              // Ended by the library meanwhile.
            }
          });
        };
        if (signal.aborted) bye();
        else signal.addEventListener("abort", bye, { once: true });
      },
      pull: (controller) =>
        new Promise<void>((resolve, reject) => {
          this.clock.after(j === 0 ? 0 : r.plan.interval, () => {
            if (careless) {
              try {
                controller.enqueue(encoder.encode(`data: ${j++}\n\n`));
                resolve();
              } catch (error) {
                reject(error);
              }
              return;
            }
            if (!cancelled && !closed) {
              try {
                controller.enqueue(encoder.encode(`data: ${j++}\n\n`));
              } catch {
                // The consumer went away meanwhile.
              }
            }
            resolve();
          });
        }),
      cancel: (reason) => {
        cancelled = true;
        r.sourceCancelled = true;
        r.sourceCancelReason = reason;
      },
    }, { highWaterMark: careless ? 1 : 0 });
  }

  // -- shutdown and hooks ---------------------------------------------------------------------

  shutdown(reason?: string): void {
    const first = this.shutdownAt === undefined;
    if (first) {
      this.shutdownAt = this.clock.now();
      this.atStart = this.counted();
      if (reason !== undefined) this.reason = reason;
      this.clock.at(this.shutdownAt + this.plan.timeout - EPSILON, () => this.#probe());
      if (this.plan.streamGrace < this.plan.timeout) {
        this.clock.at(this.shutdownAt + this.plan.streamGrace + EPSILON, () => this.#graceOver());
      }
    }
    const promise = reason === undefined ? this.g.shutdown() : this.g.shutdown({ reason });
    if (!first) {
      this.check(promise === this.shutdownPromise, "a second shutdown() returned another promise");
      return;
    }
    this.shutdownPromise = promise;
    this.check(this.g.state === "draining", `state ${this.g.state} right after shutdown()`);
    this.check(
      this.g.signal.aborted && this.g.signal.reason instanceof ShutdownError,
      "the shutdown signal did not abort with a ShutdownError",
    );
    promise.then((report) => {
      this.finishedAt = this.clock.now();
      this.report = report;
    }, (error: unknown) => {
      this.violation ??= new Violation(`shutdown() rejected: ${error}`);
    });
  }

  /**
   * Just after the stream grace: every SSE response still open must have been ended, except one
   * whose runtime read was not waiting (checked again by #watchRead).
   */
  #graceOver(): void {
    if (this.report !== undefined || this.plan.sseOff) return;
    for (const r of this.reqs) {
      if (!r.plan.kind.startsWith("sse") || r.response === undefined || r.ended) continue;
      if (!r.readWaiting) continue;
      this.check(
        r.sourceCancelled || r.sourceClosedByHandler,
        `request ${r.id} (${r.plan.kind}): an SSE response still open after the stream grace ` +
          `was not ended`,
      );
    }
  }

  /** Just before the deadline: what the library will find in flight if it has not drained. */
  #probe(): void {
    if (this.report !== undefined) return;
    this.probed = true;
    const count = this.count();
    this.check(
      (this.g.state === "draining") === (count > 0),
      `just before the deadline: ${count} in flight but state ${this.g.state}`,
    );
    if (count === 0) return;
    const ids = new Set<number>();
    let handlers = 0;
    for (const r of this.reqs) {
      if (!r.accepted || r.ended || r.uncounted) continue;
      ids.add(r.id);
      if (r.async && !r.innerSettled) handlers++;
    }
    this.probe = { count: ids.size, handlers, ids, uncountedOnly: ids.size === 0 };
  }

  #register(h: HookPlan, i: number): void {
    const timeout = h.timeout ?? this.plan.hookTimeout;
    const name = `hook ${i} (${h.behaviour})`;
    let fn: (signal: AbortSignal) => void | Promise<void>;
    switch (h.behaviour) {
      case "ok":
        fn = () => {};
        break;
      case "reentrant":
        fn = () => {
          this.check(this.g.shutdown() === this.shutdownPromise, "shutdown() in a hook");
        };
        break;
      case "async":
        fn = () => this.#delay(Math.min(h.delay, timeout - 0.5));
        break;
      case "slow":
        fn = () => this.#delay(timeout + h.delay);
        break;
      case "throw":
        fn = () => {
          throw new Error(`${name} failed`);
        };
        break;
      case "reject":
        fn = () =>
          this.#delay(Math.min(h.delay, timeout - 0.5)).then(() => {
            throw new Error(`${name} failed`);
          });
        break;
      case "hang":
        fn = () => new Promise<void>(() => {});
        break;
    }
    this.g.onShutdown(fn, h.timeout === undefined ? { name } : { name, timeout: h.timeout });
  }

  /** How long each hook runs, in the order they run (last registered first). */
  expectedHooks(): { name: string; outcome: HookReport["outcome"]; duration: number }[] {
    return this.plan.hooks.map((h, i) => {
      const timeout = h.timeout ?? this.plan.hookTimeout;
      const name = `hook ${i} (${h.behaviour})`;
      switch (h.behaviour) {
        case "ok":
        case "reentrant":
          return { name, outcome: "ok" as const, duration: 0 };
        case "throw":
          return { name, outcome: "error" as const, duration: 0 };
        case "async":
          return { name, outcome: "ok" as const, duration: Math.min(h.delay, timeout - 0.5) };
        case "reject":
          return { name, outcome: "error" as const, duration: Math.min(h.delay, timeout - 0.5) };
        case "hang":
        case "slow":
          return { name, outcome: "timeout" as const, duration: timeout };
      }
    }).reverse();
  }

  // -- running and checking -------------------------------------------------------------------

  async run(): Promise<void> {
    const { plan, clock } = this;
    for (const r of this.reqs) clock.at(r.plan.at, () => this.#arrive(r));
    clock.at(plan.shutdownAt, () => this.shutdown());
    if (plan.secondShutdownAt !== undefined) {
      clock.at(plan.secondShutdownAt, () => this.shutdown());
    }
    const hooksTotal = this.expectedHooks().reduce((sum, h) => sum + h.duration, 0);
    // Run until the report is out, checking the accounting after every event.
    while (this.report === undefined) {
      const limit = this.shutdownAt === undefined
        ? Infinity
        : this.shutdownAt + plan.timeout + 2 * FORCE_GRACE_MS + this.#hookTimeouts();
      this.check(
        clock.nextAt <= limit + EPSILON,
        `shutdown() has not settled by its bound (t=${limit}; next event at t=${clock.nextAt}): ` +
          `state ${this.g.state}, inFlight ${this.g.inFlight}, the runtime counts ${this.count()}`,
      );
      await this.#step();
    }
    this.#checkReport(hooksTotal);
    this.#checkClients();
    // The process would exit here. Let every client go and every timer run out.
    for (const r of this.reqs) {
      if (r.accepted && r.outcome === undefined) this.#leave(r);
      if (r.accepted && !r.clientGone && r.response === undefined) r.clientGone = true;
    }
    const end = clock.now() + 20_000;
    while (clock.nextAt <= end) await this.#step();
    this.check(this.g.inFlight === 0, `inFlight is ${this.g.inFlight} once everything ended`);
    this.check(this.count() === 0, `the runtime still counts ${this.count()} request(s)`);
    this.check(clock.libraryTimers === 0, `${clock.libraryTimers} library timer(s) left`);
    this.check(this.g.state === "closed", `state ${this.g.state} after the shutdown`);
    this.check((await this.g.finished) === this.report, "finished resolved with another report");
  }

  async #step(): Promise<void> {
    await this.clock.step();
    if (this.violation) throw this.violation;
    const model = this.counted();
    this.check(
      this.g.inFlight === model,
      `inFlight is ${this.g.inFlight}, the model counts ${model}`,
    );
    if (this.shutdownAt === undefined) {
      this.check(this.g.state === "serving", `state ${this.g.state} before any shutdown`);
    }
  }

  #hookTimeouts(): number {
    return this.plan.hooks.reduce((sum, h) => sum + (h.timeout ?? this.plan.hookTimeout), 0);
  }

  #checkReport(hooksTotal: number): void {
    const { plan } = this;
    const report = this.report!;
    const S = this.shutdownAt!;
    const finishedAt = this.finishedAt!;
    const probe = this.probe;
    this.check(
      this.probed || finishedAt < S + plan.timeout,
      "the report came out at the deadline before the model looked",
    );
    const bound = plan.timeout + 2 * FORCE_GRACE_MS + this.#hookTimeouts();
    this.check(
      finishedAt - S <= bound,
      `shutdown() settled ${finishedAt - S} ms after it began, past its bound of ${bound} ms`,
    );
    this.check(report.reason === this.reason, `reason ${report.reason}, expected ${this.reason}`);
    this.check(report.signal === null, `signal ${report.signal}`);
    this.check(
      report.durationMs === Math.round(finishedAt - S),
      `durationMs ${report.durationMs}, but it took ${finishedAt - S} ms`,
    );
    this.check(
      report.inFlightAtStart === this.atStart,
      `inFlightAtStart ${report.inFlightAtStart}, the runtime counted ${this.atStart}`,
    );
    // With only uncounted bodies left at the deadline, the drain still ends cleanly when the
    // server's shutdown settles within the grace after it.
    const graceEnd = S + plan.timeout + FORCE_GRACE_MS;
    const lastEnd = Math.max(
      ...this.reqs.map((r) => !r.accepted ? -Infinity : r.endedAt ?? Infinity),
    );
    const settledInGrace = probe?.uncountedOnly === true && lastEnd < graceEnd;
    if (!(probe?.uncountedOnly === true && lastEnd === graceEnd)) {
      this.check(
        report.timedOut === (probe !== undefined && !settledInGrace),
        `timedOut ${report.timedOut}`,
      );
    }
    const cut = probe?.count ?? 0;
    const handlers = probe?.handlers ?? 0;
    this.check(report.cut === cut, `cut ${report.cut}, ${cut} were in flight at the deadline`);
    this.check(
      report.cutDetail.handlers === handlers && report.cutDetail.bodies === cut - handlers &&
        ((report.cutDetail as { webSockets?: number }).webSockets ?? 0) === 0,
      `cutDetail ${JSON.stringify(report.cutDetail)}, expected ${handlers} handler(s) and ` +
        `${cut - handlers} body(ies)`,
    );
    this.check(
      report.completed === this.atStart + this.startedDuring - cut,
      `completed ${report.completed}, expected ${this.atStart} + ${this.startedDuring} - ${cut}`,
    );
    const expected = this.expectedHooks();
    this.check(
      report.hooks.length === expected.length,
      `${report.hooks.length} hook report(s) for ${expected.length} hook(s)`,
    );
    expected.forEach((e, i) => {
      const got = report.hooks[i]!;
      this.check(
        got.name === e.name && got.outcome === e.outcome &&
          got.durationMs === Math.round(e.duration),
        `hook report ${JSON.stringify(got)}, expected ${JSON.stringify(e)}`,
      );
    });
    const hooksFailed = expected.some((e) => e.outcome !== "ok");
    this.check(
      report.exitCode === (report.timedOut || hooksFailed ? 1 : 0),
      `exitCode ${report.exitCode} with timedOut ${report.timedOut}, hooks failed ${hooksFailed}`,
    );
    if (!report.timedOut) {
      // Event-driven: done the moment the last request ended (or the lame duck did), plus hooks.
      // The drain ends once the listener has closed (none: after the fixed lame duck) and the
      // last request has ended.
      let drainEnd = plan.mode === "none"
        ? S + (plan.drainDelay as number)
        : this.listenerClosedAt ?? Infinity;
      for (const r of this.reqs) {
        if (r.endedAt !== undefined && r.endedAt > drainEnd) drainEnd = r.endedAt;
      }
      this.check(
        finishedAt === drainEnd + hooksTotal,
        `drained at ${drainEnd} with ${hooksTotal} ms of hooks, but settled at ${finishedAt}`,
      );
    } else {
      this.check(
        finishedAt >= S + plan.timeout + hooksTotal,
        `timed out but settled at ${finishedAt}, before the deadline plus the hooks`,
      );
    }
  }

  /** What each client saw, at the moment the process would exit. */
  #checkClients(): void {
    const probe = this.probe;
    const frame = this.finalFrame;
    for (const r of this.reqs) {
      const what = `request ${r.id} (${r.plan.kind}, client ${r.plan.client}, ${r.outcome})`;
      if (!r.accepted) {
        this.check(r.outcome === "refused" || r.outcome === undefined, `${what}: not accepted`);
        continue;
      }
      const cut = probe?.ids.has(r.id) ?? false;
      this.check(!r.uploadBroken || cut, `${what}: its upload was broken by the listener close`);
      if (r.outcome === undefined) {
        // Still open when the process exits: allowed only for what was counted as cut, or left
        // uncounted to the server's shutdown (which did not settle, so the report timed out).
        this.check(
          cut || (r.uncounted && this.report!.timedOut),
          `${what}: dropped at exit without being counted as cut`,
        );
        r.openAtExit = true;
        continue;
      }
      const status = r.response?.status;
      switch (r.outcome) {
        case "refused":
          this.check(false, `${what}: refused after being accepted`);
          break;
        case "failed":
          this.check(
            ["throw", "reject"].includes(r.plan.kind),
            `${what}: failed: ${r.error}`,
          );
          break;
        case "cancelled":
          this.check(
            r.plan.client === "abort" || r.plan.client === "leave",
            `${what}: cancelled, but the client did not leave`,
          );
          break;
        case "reset":
          this.check(cut, `${what}: reset by the runtime but not counted as cut`);
          break;
        case "error":
          if (r.error instanceof SourceError) {
            this.check(r.plan.kind === "bodyError", `${what}: a source error`);
          } else {
            this.check(
              cut && r.error instanceof ShutdownError,
              `${what}: broken body (${r.error}) not counted as cut`,
            );
          }
          break;
        case "done":
          if (status === 503) {
            this.check(cut, `${what}: a 503 for a request not counted as cut`);
            this.check(r.text === SERVICE_UNAVAILABLE, `${what}: 503 body ${r.text}`);
            break;
          }
          this.#checkComplete(r, what, frame);
          break;
      }
    }
  }

  /** A body read to its clean end must be the whole body the handler meant to send. */
  #checkComplete(r: Live, what: string, frame: string): void {
    const status = r.response!.status;
    const text = r.text;
    const stream = (n: number): string => Array.from({ length: n }, (_, j) => `c${j};`).join("");
    switch (r.plan.kind) {
      case "fixed":
        this.check(status === 200 && text === `fixed ${r.id}`, `${what}: got ${status} ${text}`);
        break;
      case "redirect":
        this.check(
          status === 302 &&
            r.response!.headers.get("location") === `http://sim/elsewhere/${r.id}` && text === "",
          `${what}: got ${status} ${text}`,
        );
        break;
      case "async":
        this.check(status === 200 && text === `async ${r.id}`, `${what}: got ${status} ${text}`);
        break;
      case "shutdownInside":
        this.check(status === 200 && text === `bye ${r.id}`, `${what}: got ${status} ${text}`);
        break;
      case "upload":
        this.check(
          status === 200 && text === `got ${r.plan.chunks * 100}`,
          `${what}: got ${status} ${text}`,
        );
        break;
      case "stream":
        this.check(text === stream(r.plan.chunks), `${what}: a truncated body looked complete`);
        break;
      case "sse":
      case "sseCoop": {
        const bye = `event: bye\ndata: ${r.id}\n\n`;
        let events: string;
        if (r.plan.kind === "sseCoop" && text.endsWith(bye)) {
          events = text.slice(0, text.length - bye.length);
        } else if (this.plan.sseOff) {
          // Not looked for: only its handler ends it; otherwise it never looks complete.
          this.check(false, `${what}: ended cleanly without its handler, sseFinalFrame false`);
          break;
        } else {
          this.check(text.endsWith(frame), `${what}: an SSE body ended without a last frame`);
          events = text.slice(0, text.length - frame.length);
          this.check(
            !events.endsWith(bye),
            `${what}: the library appended its final frame after the handler's own last event`,
          );
          this.check(
            r.sourceCancelReason instanceof ShutdownError,
            `${what}: the library ended the stream but did not cancel its source with the reason`,
          );
        }
        const count = events === "" ? 0 : events.split("\n\n").length - 1;
        const whole = Array.from({ length: count }, (_, j) => `data: ${j}\n\n`).join("");
        this.check(events === whole, `${what}: SSE events cut mid-frame: ${JSON.stringify(text)}`);
        break;
      }
      case "endless":
      case "bodyError":
      case "hang":
      case "throw":
      case "reject":
        this.check(false, `${what}: ended cleanly with ${status} ${JSON.stringify(text)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The test

/** How often each situation came up, printed at the end so that a vacuous run shows. */
const coverage = new Map<string, number>();

function tally(sim: Sim): void {
  const seen = new Set<string>();
  const report = sim.report!;
  seen.add(`mode ${sim.plan.mode}`);
  if (report.timedOut) seen.add("timed out");
  if (report.cutDetail.handlers > 0) seen.add("handler cut (503)");
  if (report.cutDetail.bodies > 0) seen.add("body cut");
  if (report.hooks.some((h) => h.outcome === "timeout")) seen.add("hook timed out");
  if (report.hooks.some((h) => h.outcome === "error")) seen.add("hook failed");
  if (sim.reason !== "shutdown() called") seen.add("shutdown from a handler");
  if (sim.plan.drainDelay === "auto") seen.add("automatic lame duck");
  else if (sim.plan.drainDelay > 0) seen.add("lame duck");
  for (const r of sim.reqs) {
    if (r.openAtExit && r.uncounted) seen.add("open at exit, left to the server (public APIs)");
    else if (r.openAtExit) seen.add("open at exit (counted as cut)");
    if (r.uncounted && (r.endedAt ?? Infinity) > sim.shutdownAt!) {
      seen.add("streamed before the shutdown, uncounted (public APIs)");
    } else if (r.outcome !== undefined) seen.add(`outcome ${r.outcome}`);
    if (r.duringDrain) seen.add("accepted during the drain");
    if (r.plan.kind === "upload" && r.duringDrain && r.outcome === "done") {
      seen.add("upload accepted during the drain, delivered");
    }
    if (r.outcome === "done" && r.plan.kind.startsWith("sse")) {
      seen.add(
        r.sourceCancelReason instanceof ShutdownError
          ? "SSE ended by the library"
          : "SSE ended itself",
      );
    }
    if (sim.plan.sseOff && r.plan.kind === "sse" && r.outcome !== undefined) {
      seen.add("SSE left to the deadline (sseFinalFrame false)");
    }
    if (r.outcome === "error" && r.error instanceof ShutdownError) {
      seen.add("body errored at deadline");
    }
  }
  for (const key of seen) coverage.set(key, (coverage.get(key) ?? 0) + 1);
}

const SEED = envInt("GRACEFUL_SEED") ?? Math.floor(Math.random() * 2 ** 31);
const TOTAL = envInt("GRACEFUL_SCHEDULES") ?? 10_000;
const ONLY = envInt("GRACEFUL_SCHEDULE");
const BATCH = 1_000;

/** Each schedule has its own generator, so that one index can be replayed alone. */
function scheduleSeed(index: number): number {
  return (SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
}

async function runSchedule(index: number): Promise<void> {
  const plan = generate(new Random(scheduleSeed(index)));
  const sim = new Sim(plan);
  try {
    await sim.run();
    tally(sim);
  } catch (error) {
    const replay = `GRACEFUL_SEED=${SEED} GRACEFUL_SCHEDULE=${index}`;
    const states = sim.reqs.map((r) =>
      `  #${r.id} ${r.plan.kind} at ${r.plan.at} client ${r.plan.client}: ` +
      `accepted ${r.accepted}, ended ${r.endedAt ?? "-"}, outcome ${r.outcome ?? "-"}` +
      (r.response ? `, status ${r.response.status} at ${r.producedAt}` : "") +
      (r.text ? `, text ${JSON.stringify(r.text.slice(0, 80))}` : "")
    );
    const message = `property violated in schedule ${index} of seed ${SEED} ` +
      `(replay: ${replay}):\n${(error as Error).message}\n` +
      `shutdown at ${sim.shutdownAt}, report at ${sim.finishedAt}, ` +
      `probe ${JSON.stringify(sim.probe && { ...sim.probe, ids: [...sim.probe.ids] })}\n` +
      `schedule: ${JSON.stringify(plan)}\nrequests:\n${states.join("\n")}\n` +
      `log:\n${sim.lines.join("\n")}`;
    console.error(message);
    throw new Error(message, { cause: error });
  }
}

describe("graceful() under random schedules", () => {
  console.log(
    `property test: seed ${SEED}, ${ONLY === undefined ? TOTAL : 1} schedule(s) ` +
      `(GRACEFUL_SEED=${SEED} replays them)`,
  );
  if (ONLY !== undefined) {
    it(`keeps every invariant in schedule ${ONLY}`, async () => {
      await runSchedule(ONLY);
    });
    return;
  }
  after(() => {
    const lines = [...coverage].sort(([a], [b]) => a.localeCompare(b));
    console.log(`schedules per situation: ${lines.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  });
  for (let from = 0; from < TOTAL; from += BATCH) {
    const to = Math.min(TOTAL, from + BATCH);
    it(`keeps accounting, deadline and report right in schedules ${from}–${to - 1}`, async () => {
      for (let index = from; index < to; index++) await runSchedule(index);
    });
  }
});
