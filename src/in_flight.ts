// The tracker: counts requests from handler call to end of response, and the uploads among them,
// and resolves waiters the moment a count reaches zero (no polling).

/** Answers a handler that is still running, e.g. with a 503 at the deadline. */
export type _Answer = (response: Response) => void;

/** Something that can be cut at the deadline (a tracked response body). */
export interface _Cuttable {
  cut(reason: unknown): void;
}

/** Counts in-flight requests and lets the owner wait for them or cut them. */
export class InFlight {
  #requests = 0;
  #uploads = 0;
  #started = 0;
  #idle: PromiseWithResolvers<void> | undefined;
  #uploadsIdle: PromiseWithResolvers<void> | undefined;
  #handlers = new Set<_Answer>();
  #bodies = new Set<_Cuttable>();

  /** Requests started and not yet ended. */
  get requests(): number {
    return this.#requests;
  }

  /** Requests whose body may still be arriving. */
  get uploads(): number {
    return this.#uploads;
  }

  /** Requests started since the tracker was created. */
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

  /** A request began; `upload` marks one whose body may still be arriving. */
  start(upload: boolean): void {
    this.#requests++;
    this.#started++;
    if (upload) this.#uploads++;
  }

  /** A request ended (response delivered, client gone, or handler threw). */
  end(upload: boolean): void {
    if (upload && --this.#uploads === 0 && this.#uploadsIdle !== undefined) {
      this.#uploadsIdle.resolve();
      this.#uploadsIdle = undefined;
    }
    if (--this.#requests === 0 && this.#idle !== undefined) {
      this.#idle.resolve();
      this.#idle = undefined;
    }
  }

  /** Resolves as soon as no request is in flight. */
  idle(): Promise<void> {
    if (this.#requests === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  /** Resolves as soon as no request body is still arriving. */
  uploadsIdle(): Promise<void> {
    if (this.#uploads === 0) return Promise.resolve();
    this.#uploadsIdle ??= Promise.withResolvers<void>();
    return this.#uploadsIdle.promise;
  }

  /** Registers a running handler that can be answered at the deadline. */
  addHandler(answer: _Answer): void {
    this.#handlers.add(answer);
  }

  /** Marks a handler settled; `false` when it was already answered (its result is then ignored). */
  settleHandler(answer: _Answer): boolean {
    return this.#handlers.delete(answer);
  }

  /** Registers a response body that can be cut at the deadline. */
  addBody(body: _Cuttable): void {
    this.#bodies.add(body);
  }

  /** Forgets a body that ended by itself. */
  deleteBody(body: _Cuttable): void {
    this.#bodies.delete(body);
  }

  /** Answers every running handler with `respond()` and errors every tracked body. */
  cutAll(respond: () => Response, reason: unknown): void {
    // Snapshot the bodies first: the answers below are new responses that must not be cut.
    const bodies = [...this.#bodies];
    this.#bodies.clear();
    const handlers = [...this.#handlers];
    this.#handlers.clear();
    for (const answer of handlers) answer(respond());
    for (const body of bodies) body.cut(reason);
  }
}
