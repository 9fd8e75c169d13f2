// The owner of every child process of a run: spawn (optionally pinned to a CPU), stop with a
// grace period, and make sure none outlives the run, even when it is interrupted or wedged.

import { basename } from "node:path";
import { Child, type Exit } from "./child.ts";

/** Options of {@linkcode Children}. */
export interface ChildrenOptions {
  /**
   * The clock of `spawnedAt`, `Exit.at` and `stderrAt()`, e.g. `Date.now` to compare with
   * timestamps of other programs' logs.
   * @default performance.now
   */
  clock?: () => number;
}

/** Options of {@linkcode Children.spawn}. */
export interface SpawnOptions {
  /** Working directory. */
  cwd: string | URL;
  /**
   * Added to the orchestrator's environment.
   * @default {}
   */
  env?: Record<string, string>;
  /**
   * Pin the child to this CPU with `taskset -c` (taskset execs, so the PID is the child's own).
   * @default undefined (not pinned)
   */
  cpu?: number;
  /**
   * For messages.
   * @default the command's file name
   */
  name?: string;
  /**
   * The signal that ends the child for good. nginx's master needs SIGTERM: it then stops its
   * workers, which SIGKILL would leave running.
   * @default "SIGKILL"
   */
  killSignal?: Deno.Signal;
}

/** Options of {@linkcode Children.stop}. */
export interface StopOptions {
  /** @default "SIGTERM" */
  signal?: Deno.Signal;
  /**
   * How long the child has to exit before it gets its kill signal.
   * @default 3000
   */
  graceMs?: number;
}

/** How a stopped child ended. */
export interface Stopped {
  exit: Exit;
  /** Whether it had to be sent its kill signal because it did not exit within the grace. */
  killed: boolean;
}

/** Options of {@linkcode Children.guard}. */
export interface GuardOptions {
  /** Runs (synchronously) before the orchestrator exits on its budget or a signal. */
  cleanup?: () => void;
}

/** Owns every child of the run, so that none survives it. */
export class Children {
  #alive = new Set<Child>();
  #clock: () => number;

  constructor(options: ChildrenOptions = {}) {
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Starts `command args…` with stdin closed and stdout/stderr captured. */
  spawn(command: string, args: readonly string[], options: SpawnOptions): Child {
    const argv = options.cpu === undefined
      ? [command, ...args]
      : ["taskset", "-c", String(options.cpu), command, ...args];
    const spawnedAt = this.#clock();
    const process = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const child = new Child(process, {
      name: options.name ?? basename(command),
      killSignal: options.killSignal ?? "SIGKILL",
      clock: this.#clock,
      spawnedAt,
    });
    this.#alive.add(child);
    child.exited.then(() => this.#alive.delete(child));
    return child;
  }

  /** Sends `signal`, then the child's kill signal if it is still there after `graceMs`. */
  async stop(child: Child, options: StopOptions = {}): Promise<Stopped> {
    child.kill(options.signal ?? "SIGTERM");
    const exit = await child.exitWithin(options.graceMs ?? 3_000);
    if (exit) return { exit, killed: false };
    return { killed: child.kill(child.killSignal), exit: await child.exited };
  }

  /** Ends every child still running (synchronous: safe in a signal listener or a `finally`). */
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

  /**
   * Bounds a whole run: after `budgetMs`, or on SIGINT/SIGTERM to the orchestrator, every child is
   * ended, `cleanup` runs and the orchestrator exits (2, or 130). Call the returned function in a
   * `finally`: it lifts the bounds and reaps leftover children.
   */
  guard(name: string, budgetMs: number, options: GuardOptions = {}): () => Promise<void> {
    const abort = (why: string, code: number): void => {
      console.error(`${name}: ${why}; stopping every child and exiting`);
      this.killAll();
      options.cleanup?.();
      Deno.exit(code);
    };
    const watchdog = setTimeout(() => abort(`over the ${budgetMs / 1000} s budget`, 2), budgetMs);
    const onSignal = (): void => abort("interrupted", 130);
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    return async () => {
      clearTimeout(watchdog);
      const killed = await this.killAllAndWait();
      if (killed > 0) console.error(`${name}: ended ${killed} leftover child process(es)`);
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    };
  }
}
