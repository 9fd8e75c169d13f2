// The tracker: counts requests from handler call to end of response, and resolves waiters the
// moment a count reaches zero (no polling). Per request it costs a counter; only handlers that
// return a promise are remembered (with their request), so they can be answered at the deadline
// and their uploads waited for.

/** Answers a handler that is still running, e.g. with a 503 at the deadline. */
export type _Answer = (response: Response) => void;

/** Something that can be cut at the deadline (a tracked response body). */
export interface _Cuttable {
  cut(reason: unknown): void;
}

/** An open WebSocket as the tracker sees it, whatever the runtime. */
export interface _Socket {
  /** Starts the closing handshake with `code` and `reason`. */
  close(code: number, reason: string): void;
  /** Drops the connection without a handshake, where the runtime can. */
  terminate(): void;
}

/** Counts in-flight requests and lets the owner wait for them or cut them. */
export class _InFlight {
  #requests = 0;
  #started = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  /** Running async handlers and their requests (undefined where the runtime passed none). */
  #handlers = new Map<_Answer, Request | undefined>();
  #watched = new Set<_Answer>();
  #watchedIdle: PromiseWithResolvers<void> | undefined;
  #bodies = new Set<_Cuttable>();
  #sockets = new Set<_Socket>();
  #socketsIdle: PromiseWithResolvers<void> | undefined;

  /** Requests started and not yet finished. */
  get requests(): number {
    return this.#requests;
  }

  /** Open WebSockets. */
  get sockets(): number {
    return this.#sockets.size;
  }

  /** Requests started, and WebSockets opened, since the tracker was created. */
  get started(): number {
    return this.#started;
  }

  /** Async handlers that have not settled yet. */
  get handlers(): number {
    return this.#handlers.size;
  }

  /** Tracked response bodies still being written. */
  get bodies(): number {
    return this.#bodies.size;
  }

  /** A request began. */
  start(): void {
    this.#requests++;
    this.#started++;
  }

  /** A request finished (response delivered, client gone, or handler threw). */
  finish(): void {
    if (--this.#requests === 0 && this.#sockets.size === 0) this.#resolveIdle();
  }

  /** Resolves as soon as no request is in flight and no WebSocket is open. */
  idle(): Promise<void> {
    if (this.#requests === 0 && this.#sockets.size === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  /** A WebSocket opened; it counts as in flight until {@linkcode deleteSocket}. */
  addSocket(socket: _Socket): void {
    this.#sockets.add(socket);
    this.#started++;
  }

  /** A WebSocket closed (handshake done, or dropped). */
  deleteSocket(socket: _Socket): void {
    if (!this.#sockets.delete(socket) || this.#sockets.size > 0) return;
    this.#socketsIdle?.resolve();
    this.#socketsIdle = undefined;
    if (this.#requests === 0) this.#resolveIdle();
  }

  /** Resolves as soon as no WebSocket is open. */
  socketsClosed(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    this.#socketsIdle ??= Promise.withResolvers<void>();
    return this.#socketsIdle.promise;
  }

  /** Starts the closing handshake of every open WebSocket. */
  closeSockets(code: number, reason: string): void {
    for (const socket of [...this.#sockets]) socket.close(code, reason);
  }

  #resolveIdle(): void {
    this.#idle?.resolve();
    this.#idle = undefined;
  }

  /** Registers a running handler that can be answered at the deadline. */
  addHandler(answer: _Answer, request: Request | undefined): void {
    this.#handlers.set(answer, request);
  }

  /** Marks a handler settled; `false` when it was already answered (its result is then ignored). */
  settleHandler(answer: _Answer): boolean {
    if (!this.#handlers.delete(answer)) return false;
    if (this.#watched.size > 0 && this.#watched.delete(answer) && this.#watched.size === 0) {
      this.#watchedIdle?.resolve();
      this.#watchedIdle = undefined;
    }
    return true;
  }

  /**
   * Resolves once every handler running now whose request matches `filter` has settled;
   * `undefined` when there is none to wait for.
   */
  handlersSettled(filter: (request: Request | undefined) => boolean): Promise<void> | undefined {
    for (const [answer, request] of this.#handlers) {
      if (filter(request)) this.#watched.add(answer);
    }
    if (this.#watched.size === 0) return undefined;
    this.#watchedIdle ??= Promise.withResolvers<void>();
    return this.#watchedIdle.promise;
  }

  /** Registers a response body that can be cut at the deadline. */
  addBody(body: _Cuttable): void {
    this.#bodies.add(body);
  }

  /** Forgets a body that ended by itself. */
  deleteBody(body: _Cuttable): void {
    this.#bodies.delete(body);
  }

  /**
   * Answers every running handler with `respond()`, errors every tracked body and drops every
   * WebSocket.
   */
  cutAll(respond: () => Response, reason: unknown): void {
    // Snapshot the bodies first: the answers below are new responses that must not be cut.
    const bodies = [...this.#bodies];
    this.#bodies.clear();
    const sockets = [...this.#sockets];
    this.#sockets.clear();
    this.#socketsIdle?.resolve();
    this.#socketsIdle = undefined;
    const handlers = [...this.#handlers.keys()];
    this.#handlers.clear();
    this.#watched.clear();
    this.#watchedIdle?.resolve();
    this.#watchedIdle = undefined;
    for (const answer of handlers) answer(respond());
    for (const body of bodies) body.cut(reason);
    for (const socket of sockets) socket.terminate();
    if (this.#requests === 0) this.#resolveIdle();
  }
}
