// Child processes of the rolling-restart run: spawn with captured output, wait for a line, send
// signals, and make sure none outlives the run.

/** How a child ended. */
export interface Exit {
  /** The exit code; 128 + n when killed by signal n. */
  code: number;
  /** The signal that killed the child, or `null` when it exited by itself. */
  signal: Deno.Signal | null;
  /** `Date.now()` when the orchestrator saw the exit. */
  at: number;
}

/** Options of {@linkcode Children.spawn}. */
export interface SpawnOptions {
  cwd: string;
  /** Added to the orchestrator's environment. */
  env?: Record<string, string>;
  /**
   * The signal that ends the child for good. nginx's master needs SIGTERM: it then stops its
   * workers, which SIGKILL would leave running.
   * @default "SIGKILL"
   */
  killSignal?: Deno.Signal;
}

/** Characters of stdout and of stderr kept per child. */
const _KEEP = 256 * 1024;

/** One running child. */
export class Child {
  readonly pid: number;
  readonly name: string;
  /** See {@linkcode SpawnOptions.killSignal}. */
  readonly killSignal: Deno.Signal;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Resolves once stdout and stderr both reached their end. */
  readonly drained: Promise<void>;
  #process: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #exit: Exit | undefined;
  #onOutput = new Set<() => void>();

  constructor(name: string, process: Deno.ChildProcess, killSignal: Deno.Signal) {
    this.name = name;
    this.killSignal = killSignal;
    this.#process = process;
    this.pid = process.pid;
    this.exited = process.status.then((status) => {
      this.#exit = { code: status.code, signal: status.signal, at: Date.now() };
      this.#notify();
      return this.#exit;
    });
    this.drained = Promise.all([
      this.#drain(process.stdout, (text) => this.#stdout = _append(this.#stdout, text)),
      this.#drain(process.stderr, (text) => this.#stderr = _append(this.#stderr, text)),
    ]).then(() => {});
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** The exit, once the process has exited. */
  get exit(): Exit | undefined {
    return this.#exit;
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

  /**
   * Resolves with the first match of `pattern` on stdout.
   * @throws {Error} when the child exits first or `timeoutMs` passes.
   */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const { promise, resolve, reject } = Promise.withResolvers<RegExpMatchArray>();
    const check = (): void => {
      const match = this.#stdout.match(pattern);
      if (match) return finish(match);
      if (this.#exit) {
        // The pipes may still hold the last lines: decide once they are read to the end.
        this.drained.then(() => {
          const late = this.#stdout.match(pattern);
          finish(
            late ??
              new Error(
                `${this.name} exited (code ${this.#exit?.code}, signal ${this.#exit?.signal}) ` +
                  `before printing ${pattern}${this.#tail()}`,
              ),
          );
        });
      }
    };
    const finish = (result: RegExpMatchArray | Error): void => {
      clearTimeout(timer);
      this.#onOutput.delete(check);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(
      () => finish(new Error(`${this.name}: no ${pattern} after ${timeoutMs} ms${this.#tail()}`)),
      timeoutMs,
    );
    this.#onOutput.add(check);
    check();
    return promise;
  }

  #tail(): string {
    const text = (this.#stderr || this.#stdout).trim().split("\n").slice(-8).join("\n  ");
    return text ? `; output:\n  ${text}` : "";
  }

  #notify(): void {
    for (const check of [...this.#onOutput]) check();
  }

  async #drain(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        add(decoder.decode(chunk, { stream: true }));
        this.#notify();
      }
    } catch {
      // The pipe broke because the child was killed: nothing more to read.
    }
  }
}

function _append(kept: string, text: string): string {
  return kept.length < _KEEP ? kept + text : kept;
}

/** Owns every child of the run, so that none survives it. */
export class Children {
  #alive = new Set<Child>();

  /** Starts `command args…` with stdin closed and stdout/stderr captured. */
  spawn(name: string, command: string, args: readonly string[], options: SpawnOptions): Child {
    const process = new Deno.Command(command, {
      args: [...args],
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const child = new Child(name, process, options.killSignal ?? "SIGKILL");
    this.#alive.add(child);
    child.exited.then(() => this.#alive.delete(child));
    return child;
  }

  /**
   * Sends `signal`, then the child's kill signal if it is still there after `graceMs`.
   * @returns the exit, and whether the kill signal was needed.
   */
  async stop(
    child: Child,
    signal: Deno.Signal = "SIGTERM",
    graceMs = 5_000,
  ): Promise<{ exit: Exit; killed: boolean }> {
    child.kill(signal);
    let killed = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        killed = child.kill(child.killSignal);
        resolve();
      }, graceMs);
    });
    await Promise.race([child.exited, grace]);
    clearTimeout(timer);
    return { exit: await child.exited, killed };
  }

  /** Ends every child still running (synchronous: safe in a signal listener). */
  killAll(): number {
    let count = 0;
    for (const child of this.#alive) if (child.kill(child.killSignal)) count++;
    return count;
  }

  /** Ends every child still running and waits, bounded, until they are reaped. */
  async killAllAndWait(timeoutMs = 3_000): Promise<number> {
    const children = [...this.#alive];
    const count = this.killAll();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(children.map((child) => child.exited)),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
    return count;
  }
}
