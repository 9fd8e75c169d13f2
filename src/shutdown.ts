// The shutdown sequence as named phases, run once and in order. Every question about where it
// stands ("is the listener closed?", "have the hooks run?") reads the one phase value, and every
// timer lives in one _Timers cleared in `finally`, so `finished` always settles and the state
// always ends "closed", whatever a server or a step throws.

import { _race, _Timers } from "./clock.ts";
import { ShutdownError } from "./errors.ts";
import { type _Hook, _runHooks } from "./hooks.ts";
import type { _InFlight } from "./in_flight.ts";
import type { _Lifecycle } from "./lifecycle.ts";
import type { _Settings } from "./options.ts";
import { _hasBody, _unavailable } from "./responses.ts";
import type { _RuntimeServer } from "./runtime/types.ts";
import type { SignalName } from "./signals.ts";
import type { _Streams } from "./streams.ts";
import type { CutDetail, ShutdownReport } from "./types.ts";

/** Where a shutdown stands. */
export type _Phase =
  | "serving"
  | "announce"
  | "lame-duck"
  | "uploads"
  | "sockets"
  | "close"
  | "drain"
  | "cut"
  | "hooks"
  | "report"
  | "closed";

const _ORDER: readonly _Phase[] = [
  "serving",
  "announce",
  "lame-duck",
  "uploads",
  "sockets",
  "close",
  "drain",
  "cut",
  "hooks",
  "report",
  "closed",
];
// With no lame duck and nothing to wait for, the listener closes before anything else: every
// millisecond spent announcing is one in which keep-alive clients still send on sockets about to
// close (bench/keepalive_race.ts).
const _CLOSE_FIRST: readonly _Phase[] = [
  "serving",
  "close",
  "announce",
  "drain",
  "cut",
  "hooks",
  "report",
  "closed",
];

/**
 * Milliseconds waited, twice at most, after the deadline: for the 503 answers to be written,
 * then for the runtime to settle after being forced. Also how long a closing server may take
 * once nothing is counted in flight before it is asked to let go of idle connections.
 */
export const _FORCE_GRACE_MS = 100;
/** The default lame duck: at most this long... */
export const _AUTO_DRAIN_MAX_MS = 300;
/** ...and over as soon as no request started during this long on an idle server... */
export const _AUTO_DRAIN_QUIET_MS = 20;
/**
 * ...or during this long once requests arrived: clients told `Connection: close` reconnect in
 * bursts with gaps of about 20 ms between them (Bun, 500 keep-alive clients: requests on reused
 * connections were lost when the lame duck ended in such a gap).
 */
export const _AUTO_DRAIN_BUSY_QUIET_MS = 100;
/** Milliseconds between progress lines while draining. */
const _PROGRESS_MS = 1000;

/** What the sequence works on; the graceful server owns these. */
export interface _ShutdownParts {
  settings: _Settings;
  tracker: _InFlight;
  streams: _Streams;
  life: _Lifecycle;
  hooks: readonly _Hook[];
}

/** The shutdown of one graceful server: its attached servers, its phase and its run. */
export class _Shutdown {
  #parts: _ShutdownParts;
  #phase: _Phase = "serving";
  #order = _ORDER;
  #servers: _RuntimeServer[] = [];
  #closing: Promise<void>[] = [];
  #closeFailed = false;
  #deadline = new AbortController();
  #timers: _Timers;

  constructor(parts: _ShutdownParts) {
    this.#parts = parts;
    this.#timers = new _Timers(parts.settings.clock);
  }

  get phase(): _Phase {
    return this.#phase;
  }

  /** Whether the sequence has entered `phase` (or gone past it). */
  reached(phase: _Phase): boolean {
    return this.#order.indexOf(this.#phase) >= this.#order.indexOf(phase);
  }

  /** Requests in flight by the library's count, or by a runtime's when it counts more. */
  get inFlight(): number {
    const tracker = this.#parts.tracker;
    let count = tracker.requests;
    for (const server of this.#servers) {
      const pending = server.pending();
      if (pending !== undefined && pending > count) count = pending;
    }
    return count + tracker.sockets;
  }

  /** Whether a server is attached. */
  get attached(): boolean {
    return this.#servers.length > 0;
  }

  /** Adds a server; once the listeners were closed, it is closed at once. */
  attach(server: _RuntimeServer): void {
    this.#servers.push(server);
    if (!this.reached("close")) return;
    if (this.reached("hooks")) {
      this.#parts.settings.logger.warn(
        `a ${server.runtime} server was attached after the shutdown finished: closing it now`,
      );
    }
    this.#close(server);
  }

  /** Skips to the deadline now (a second signal when exiting is off). */
  force(): void {
    this.#deadline.abort();
  }

  /** Runs the whole sequence; never rejects. */
  async run(reason: string, signal: SignalName | null): Promise<ShutdownReport> {
    const { settings, tracker, streams, hooks } = this.#parts;
    const { clock, logger } = settings;
    const start = clock.now();
    const elapsed = (): number => Math.round(clock.now() - start);
    const startedBefore = tracker.started;
    const inFlightAtStart = this.inFlight;
    const webSocketsAtStart = tracker.sockets;
    let cutDetail: CutDetail = { handlers: 0, bodies: 0, webSockets: 0 };
    let timedOut = false;
    let failed = false;
    try {
      const closeFirst = settings.drainDelay === 0 && !this.#uploadsRunning() &&
        !this.#socketsFirst();
      if (closeFirst) {
        this.#order = _CLOSE_FIRST;
        this.#closeListeners();
      }
      this.#announce(reason, signal, inFlightAtStart, elapsed);
      if (!closeFirst) {
        await this.#lameDuck();
        await this.#uploads();
        await this.#sockets();
        this.#closeListeners();
      }
      const left = await this.#drain(signal, elapsed);
      timedOut = left !== undefined;
      if (left !== undefined) {
        cutDetail = left;
        await this.#force(left.handlers + left.bodies + left.webSockets === 0);
      }
    } catch (error) {
      failed = true;
      logger.error(`shutdown failed in phase "${this.#phase}": ${_message(error)}`);
    } finally {
      this.#timers.clearAll();
      streams.stop();
    }
    const cut = cutDetail.handlers + cutDetail.bodies + cutDetail.webSockets;
    if (!timedOut && !failed) logger.info(`drained in ${elapsed()} ms`);

    this.#enter("hooks");
    const hookReports = await _runHooks(hooks, clock, logger);
    const hooksFailed = hookReports.some((h) => h.outcome !== "ok");
    this.#enter("report");
    const report: ShutdownReport = {
      reason,
      signal,
      durationMs: elapsed(),
      inFlightAtStart,
      webSocketsAtStart,
      completed: Math.max(0, inFlightAtStart + tracker.started - startedBefore - cut),
      cut,
      cutDetail,
      timedOut,
      hooks: hookReports,
      exitCode: timedOut || hooksFailed || failed || this.#closeFailed ? 1 : 0,
    };
    const okHooks = hookReports.filter((h) => h.outcome === "ok").length;
    logger.info(
      `shutdown complete in ${report.durationMs} ms: ${report.completed} completed, ${cut} cut` +
        (hookReports.length > 0 ? `, ${okHooks}/${hookReports.length} hooks ok` : ""),
    );
    this.#enter("closed");
    return report;
  }

  #enter(phase: _Phase): void {
    this.#phase = phase;
    this.#parts.life.state = phase === "serving"
      ? "serving"
      : this.reached("hooks")
      ? "closed"
      : "draining";
  }

  /** Whether a server must keep its listener open until uploads arrived (Deno). */
  #waitsForUploads(): boolean {
    return this.#servers.some((s) => s.waitsForUploads);
  }

  /** Whether handlers are still receiving request bodies that a server must wait for. */
  #uploadsRunning(): boolean {
    return this.#waitsForUploads() &&
      this.#parts.tracker.handlersSettled(_hasBody) !== undefined;
  }

  /** Whether WebSockets must close before the listener does (Deno drops them with it). */
  #socketsFirst(): boolean {
    return this.#parts.tracker.sockets > 0 && this.#servers.some((s) => s.closesWebSockets);
  }

  /** The signal aborts, the deadline, stream grace and progress timers start. */
  #announce(
    reason: string,
    signal: SignalName | null,
    inFlight: number,
    elapsed: () => number,
  ): void {
    this.#enter("announce");
    const { settings, life, streams } = this.#parts;
    const { logger, timeout } = settings;
    const timers = this.#timers;
    timers.set(() => this.#deadline.abort(), timeout);
    logger.info(`shutdown started (${reason}): ${inFlight} in flight, deadline in ${timeout} ms`);
    if (this.#servers.length === 0 && inFlight > 0) {
      logger.warn(
        `no server attached: ${inFlight} request(s) in flight are counted until the library ` +
          `sees them end, but the runtime's delivery of their last bytes is not awaited and ` +
          `its listener is not closed; pass the server from Deno.serve()/Bun.serve() to attach()`,
      );
    }
    const error = new ShutdownError(`server is shutting down (${reason})`, { signal });
    life.controller.abort(error);
    const progress = (): void => {
      logger.info(`draining: ${this.#describe()} still in flight after ${elapsed()} ms`);
      timers.set(progress, _PROGRESS_MS);
    };
    timers.set(progress, _PROGRESS_MS);
    timers.set(() => streams.endAll(timers, error, logger), settings.streamGrace);
  }

  /**
   * Keeps serving with `Connection: close`. The default keeps the listener open while requests
   * keep arriving (keep-alive clients then leave before their idle sockets are closed under
   * them), for at most `_AUTO_DRAIN_MAX_MS`, and ends once none started for
   * `_AUTO_DRAIN_QUIET_MS` (idle) or `_AUTO_DRAIN_BUSY_QUIET_MS` (after requests arrived).
   */
  async #lameDuck(): Promise<void> {
    this.#enter("lame-duck");
    const { settings, tracker } = this.#parts;
    const { drainDelay, timeout, clock } = settings;
    const deadline = this.#deadline.signal;
    if (drainDelay === 0) return;
    if (drainDelay !== "auto") {
      settings.logger.info(`lame duck: serving with Connection: close for ${drainDelay} ms`);
      await this.#timers.sleep(drainDelay, deadline);
      return;
    }
    const until = clock.now() + Math.min(_AUTO_DRAIN_MAX_MS, timeout / 2);
    let seen = tracker.started;
    let quiet = _AUTO_DRAIN_QUIET_MS;
    for (;;) {
      const left = until - clock.now();
      if (left <= 0 || deadline.aborted) return;
      await this.#timers.sleep(Math.min(quiet, left), deadline);
      if (tracker.started === seen) return;
      seen = tracker.started;
      quiet = _AUTO_DRAIN_BUSY_QUIET_MS;
    }
  }

  /** Deno: the listener stays open until running handlers received their request bodies. */
  async #uploads(): Promise<void> {
    this.#enter("uploads");
    if (!this.#waitsForUploads()) return;
    const tracker = this.#parts.tracker;
    // The listener is still open: uploads that begin meanwhile count too.
    let uploads = tracker.handlersSettled(_hasBody);
    while (uploads !== undefined && await _race(uploads, this.#deadline.signal)) {
      uploads = tracker.handlersSettled(_hasBody);
    }
  }

  /** Deno: WebSockets close (with their handshake) before the listener drops them. */
  async #sockets(): Promise<void> {
    this.#enter("sockets");
    if (!this.#socketsFirst()) return;
    const tracker = this.#parts.tracker;
    this.#parts.settings.logger.info(
      `waiting for ${tracker.sockets} WebSocket(s) to close before the listener`,
    );
    await _race(tracker.socketsClosed(), this.#deadline.signal);
  }

  #closeListeners(): void {
    this.#enter("close");
    for (const server of this.#servers) this.#close(server);
  }

  /** Closes one server's listener; the drain waits for it. A failure is logged and reported. */
  #close(server: _RuntimeServer): void {
    let closing: Promise<void>;
    try {
      closing = server.close();
    } catch (error) {
      closing = Promise.reject(error);
    }
    this.#closing.push(closing.catch((error: unknown) => {
      this.#closeFailed = true;
      this.#parts.settings.logger.error(
        `closing the ${server.runtime} server failed: ${_message(error)}`,
      );
    }));
  }

  /**
   * Waits for the drain. When the deadline comes first with work left, cuts what is left in the
   * same tick (a handler may fail by itself a tick later, once its listener closed) and returns
   * what was cut.
   */
  async #drain(signal: SignalName | null, elapsed: () => number): Promise<CutDetail | undefined> {
    this.#enter("drain");
    const { tracker, settings } = this.#parts;
    if (this.#servers.length > 0) {
      settings.logger.info(
        `closing the listener after ${elapsed()} ms; waiting for ${this.#describe()}`,
      );
    }
    const drained = this.#drained();
    if (await _race(drained, this.#deadline.signal)) return undefined;
    const cut = this.inFlight;
    const { handlers, sockets } = tracker;
    const detail = { handlers, bodies: Math.max(0, cut - handlers - sockets), webSockets: sockets };
    // The deadline with nothing left in flight: only a runtime's settling was late.
    if (cut === 0 && await this.#timers.within(drained, _FORCE_GRACE_MS)) return undefined;
    this.#enter("cut");
    if (cut === 0) {
      // Deno's public-API path leaves bodies streamed before the shutdown to Deno's shutdown.
      settings.logger.warn(
        `deadline reached after ${elapsed()} ms with nothing counted in flight, but the ` +
          `server is still closing: the runtime is still writing responses the library does ` +
          `not count (on Deno's public-API path, bodies streamed before the shutdown began); ` +
          `they end when the process exits`,
      );
    } else {
      settings.logger.warn(
        `deadline reached after ${elapsed()} ms: cutting ${detail.handlers} handler(s), ` +
          `${detail.bodies} response body(ies) and ${detail.webSockets} WebSocket(s)`,
      );
    }
    const error = new ShutdownError(`shutdown deadline of ${settings.timeout} ms reached`, {
      signal,
    });
    tracker.cutAll(_unavailable, error);
    return detail;
  }

  /** Resolves when every tracked request finished and every closed server has settled. */
  async #drained(): Promise<void> {
    const tracker = this.#parts.tracker;
    await tracker.idle();
    let seen = 0;
    while (seen < this.#closing.length) {
      seen = this.#closing.length;
      const closing = Promise.all(this.#closing);
      if (
        !(await this.#timers.within(closing, _FORCE_GRACE_MS)) &&
        tracker.requests === 0 && tracker.sockets === 0
      ) {
        for (const server of this.#servers) {
          const note = server.settleIdle();
          if (note) this.#parts.settings.logger.info(note);
        }
      }
      await closing;
    }
  }

  /**
   * After the cut: lets the 503 answers go out, then forces the runtimes if still needed. With
   * nothing cut, the drain already gave the runtime that grace.
   */
  async #force(nothingCut: boolean): Promise<void> {
    const drained = this.#drained();
    // Bun's stop(true) would drop the 503 answers: give them their time first.
    if (!nothingCut && await this.#timers.within(drained, _FORCE_GRACE_MS)) return;
    for (const server of this.#servers) server.force();
    if (await this.#timers.within(drained, _FORCE_GRACE_MS)) return;
    // Deno without its internals: a body handed over before the shutdown has no public handle.
    if (this.inFlight === 0) return;
    this.#parts.settings.logger.warn(
      `${this.inFlight} response(s) still open after the cut: the runtime cannot close them ` +
        `from outside; they end when the process exits`,
    );
  }

  #describe(): string {
    const tracker = this.#parts.tracker;
    const parts = [`${tracker.handlers} running`];
    if (tracker.bodies > 0) parts.push(`${tracker.bodies} tracked stream(s)`);
    if (tracker.sockets > 0) parts.push(`${tracker.sockets} WebSocket(s)`);
    return `${this.inFlight} request(s) (${parts.join(", ")})`;
  }
}

function _message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
