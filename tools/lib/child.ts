// One running child process: its captured output, a wait for a line on stdout, signals, and its
// exit. Started and owned by Children (children.ts).

/** How a child ended, and when (on the clock of the Children that started it). */
export interface Exit {
  /** The exit code; 128 + n when killed by signal n. */
  code: number;
  /** The signal that killed the child, or `null` when it exited by itself. */
  signal: Deno.Signal | null;
  at: number;
}

/** What {@linkcode Children} knows when it starts a child. */
export interface ChildInit {
  /** For messages. */
  name: string;
  /** The signal that ends the child for good. */
  killSignal: Deno.Signal;
  clock: () => number;
  /** `clock()` right before the spawn. */
  spawnedAt: number;
}

/** Characters of stdout and of stderr kept per child, for diagnostics and log checks. */
const _KEEP = 256 * 1024;

/** One running child. */
export class Child {
  readonly pid: number;
  readonly name: string;
  readonly killSignal: Deno.Signal;
  readonly spawnedAt: number;
  /** Resolves when the process has exited; `at` is taken in the first reaction to the exit. */
  readonly exited: Promise<Exit>;
  /** Resolves once stdout and stderr have both reached their end. */
  readonly drained: Promise<void>;
  #process: Deno.ChildProcess;
  #clock: () => number;
  #stdout = "";
  #stderr = "";
  /** When each stderr chunk arrived, and the length of the kept stderr after it. */
  #stderrArrivals: { at: number; end: number }[] = [];
  #exit: Exit | undefined;
  #onStdout = new Set<() => void>();

  constructor(process: Deno.ChildProcess, init: ChildInit) {
    this.#process = process;
    this.#clock = init.clock;
    this.pid = process.pid;
    this.name = init.name;
    this.killSignal = init.killSignal;
    this.spawnedAt = init.spawnedAt;
    this.exited = process.status.then((status) => {
      this.#exit = { code: status.code, signal: status.signal, at: this.#clock() };
      this.#notify();
      return this.#exit;
    });
    const drains = [this.#drain(process.stdout, true), this.#drain(process.stderr, false)];
    this.drained = Promise.all(drains).then(() => {});
  }

  /** What the child wrote to stdout so far (the first 256 KiB). */
  get stdout(): string {
    return this.#stdout;
  }

  /** What the child wrote to stderr so far (the first 256 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /** The exit, once the process has exited. */
  get exit(): Exit | undefined {
    return this.#exit;
  }

  /**
   * When the end of the first match of `pattern` on stderr arrived (on the clock), or undefined
   * when it has not come (yet).
   */
  stderrAt(pattern: RegExp): number | undefined {
    const match = pattern.exec(this.#stderr);
    if (match === null) return undefined;
    const end = match.index + match[0].length;
    return this.#stderrArrivals.find((arrival) => arrival.end >= end)?.at;
  }

  /** Sends `signal`; false when the process is already gone. */
  kill(signal: Deno.Signal): boolean {
    if (this.#exit) return false;
    try {
      this.#process.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  /** The exit, or undefined when the child is still running after `ms`. */
  async exitWithin(ms: number): Promise<Exit | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolves with the first match of `pattern` on stdout.
   * @throws {Error} when the child exits first or `timeoutMs` passes.
   */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const { promise, resolve, reject } = Promise.withResolvers<RegExpMatchArray>();
    let settled = false;
    const finish = (result: RegExpMatchArray | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#onStdout.delete(check);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const check = (): void => {
      const match = this.#stdout.match(pattern);
      if (match) return finish(match);
      const exit = this.#exit;
      if (exit === undefined) return;
      // After an exit the pipes may still hold the last lines: decide once they are drained.
      this.#onStdout.delete(check);
      this.drained.then(() =>
        finish(
          this.#stdout.match(pattern) ??
            new Error(
              `${this.name} exited (code ${exit.code}, signal ${exit.signal}) before printing ` +
                `${pattern}${this.#tail()}`,
            ),
        )
      );
    };
    const timer = setTimeout(
      () => finish(new Error(`${this.name}: no ${pattern} after ${timeoutMs} ms${this.#tail()}`)),
      timeoutMs,
    );
    this.#onStdout.add(check);
    check();
    return promise;
  }

  #tail(): string {
    const text = (this.#stderr || this.#stdout).trim().split("\n").slice(-8).join("\n  ");
    return text ? `; output:\n  ${text}` : "";
  }

  #notify(): void {
    for (const check of [...this.#onStdout]) check();
  }

  async #drain(stream: ReadableStream<Uint8Array>, isStdout: boolean): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (isStdout) {
          if (this.#stdout.length < _KEEP) this.#stdout += text;
          this.#notify();
        } else if (this.#stderr.length < _KEEP) {
          this.#stderr += text;
          this.#stderrArrivals.push({ at: this.#clock(), end: this.#stderr.length });
        }
      }
    } catch {
      // The pipe broke because the child was killed: nothing left to read.
    }
  }
}
