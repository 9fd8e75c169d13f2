// Child processes for the benchmark: spawn (optionally pinned to a CPU), wait for a ready line,
// read CPU time from /proc, and make sure every child is gone when the run ends.

/** How a child ended, and when (performance.now() of the orchestrator). */
export interface Exit {
  code: number;
  signal: Deno.Signal | null;
  at: number;
}

/** Options of {@linkcode Processes.spawn}. */
export interface SpawnOptions {
  /** Extra environment variables (the orchestrator's environment is inherited). */
  env?: Record<string, string>;
  /** Working directory. */
  cwd: string;
  /**
   * Pin the child to this CPU with `taskset -c` (taskset execs, so the PID is the child's own).
   * @default undefined (not pinned)
   */
  cpu?: number;
}

/** Characters of stdout/stderr kept per child, for diagnostics. */
const _KEEP = 64 * 1024;

/** A running child. */
export class Spawned {
  readonly pid: number;
  readonly spawnedAt: number;
  /** Resolves when the process has exited; `at` is taken in the first reaction to the exit. */
  readonly exited: Promise<Exit>;
  /** Resolves once stdout and stderr have both reached their end. */
  readonly drained: Promise<void>;
  #child: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  /** When each stderr chunk arrived, and the length of the kept stderr after it. */
  #stderrArrivals: { at: number; end: number }[] = [];
  #done = false;
  #watchers: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];

  constructor(child: Deno.ChildProcess, spawnedAt: number) {
    this.#child = child;
    this.pid = child.pid;
    this.spawnedAt = spawnedAt;
    this.exited = child.status.then((status) => {
      const exit = { code: status.code, signal: status.signal, at: performance.now() };
      this.#done = true;
      return exit;
    });
    this.drained = Promise.all([this.#drain(child.stdout, true), this.#drain(child.stderr, false)])
      .then(() => {});
  }

  /** Whether the process has exited (as far as the orchestrator has seen). */
  get done(): boolean {
    return this.#done;
  }

  /** What the child wrote to stdout so far (first 64 KiB). */
  get stdout(): string {
    return this.#stdout;
  }

  /** What the child wrote to stderr so far (first 64 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /**
   * When the orchestrator received the end of the first match of `pattern` on stderr
   * (`performance.now()`), or undefined when it has not come (yet).
   */
  stderrAt(pattern: RegExp): number | undefined {
    const match = pattern.exec(this.#stderr);
    if (match === null) return undefined;
    const end = match.index + match[0].length;
    return this.#stderrArrivals.find((arrival) => arrival.end >= end)?.at;
  }

  /** Sends a signal; false when the process is already gone. */
  kill(signal: Deno.Signal): boolean {
    if (this.#done) return false;
    try {
      this.#child.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Resolves with the first match of `pattern` on stdout.
   * @throws {Error} when the process exits first or `timeoutMs` passes.
   */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const found = this.#stdout.match(pattern);
    if (found) return found;
    const { promise, resolve } = Promise.withResolvers<RegExpMatchArray>();
    const watcher = { pattern, resolve };
    this.#watchers.push(watcher);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no ${pattern} on stdout after ${timeoutMs} ms${this.#tail()}`)),
        timeoutMs,
      );
    });
    // After an exit, the pipes may still hold the last lines: decide once they are drained.
    const exited = Promise.all([this.exited, this.drained]).then(([exit]) => {
      const late = this.#stdout.match(pattern);
      if (late) return late;
      throw new Error(
        `exited (code ${exit.code}, signal ${exit.signal}) before ${pattern}${this.#tail()}`,
      );
    });
    try {
      return await Promise.race([promise, timeout, exited]);
    } finally {
      clearTimeout(timer);
      this.#watchers = this.#watchers.filter((w) => w !== watcher);
    }
  }

  #tail(): string {
    const text = (this.#stderr || this.#stdout).trim().split("\n").slice(-5).join("\n  ");
    return text ? `; output:\n  ${text}` : "";
  }

  async #drain(stream: ReadableStream<Uint8Array>, isStdout: boolean): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (isStdout) {
          if (this.#stdout.length < _KEEP) this.#stdout += text;
          for (const w of this.#watchers) {
            const match = this.#stdout.match(w.pattern);
            if (match) w.resolve(match);
          }
        } else if (this.#stderr.length < _KEEP) {
          this.#stderr += text;
          this.#stderrArrivals.push({ at: performance.now(), end: this.#stderr.length });
        }
      }
    } catch {
      // The pipe broke because the child was killed: nothing left to read.
    }
  }
}

/** Owns every child of the run, so that none survives it. */
export class Processes {
  #alive = new Set<Spawned>();

  /** Starts `command args…` with stdin closed and stdout/stderr captured. */
  spawn(command: string, args: readonly string[], options: SpawnOptions): Spawned {
    const argv = options.cpu === undefined
      ? [command, ...args]
      : ["taskset", "-c", String(options.cpu), command, ...args];
    const spawnedAt = performance.now();
    const child = new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      cwd: options.cwd,
      env: options.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const spawned = new Spawned(child, spawnedAt);
    this.#alive.add(spawned);
    spawned.exited.then(() => this.#alive.delete(spawned));
    return spawned;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  async stop(child: Spawned, graceMs = 3000): Promise<Exit> {
    child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([child.exited, killed]);
    clearTimeout(timer);
    return await child.exited;
  }

  /** SIGKILLs every child still running (synchronous, safe in a signal handler or finally). */
  killAll(): number {
    let count = 0;
    for (const child of this.#alive) if (child.kill("SIGKILL")) count++;
    return count;
  }

  /**
   * Bounds a whole benchmark run: after `budgetMs`, or on SIGINT/SIGTERM to the orchestrator,
   * every child is SIGKILLed and the orchestrator exits (2, or 130). Call the returned function in
   * a `finally`: it lifts the bounds and reaps leftover children.
   */
  guard(name: string, budgetMs: number): () => Promise<void> {
    const watchdog = setTimeout(() => {
      console.error(
        `${name}: over the ${budgetMs / 1000} s budget; killing every child and exiting`,
      );
      this.killAll();
      Deno.exit(2);
    }, budgetMs);
    const onSignal = (): void => {
      console.error(`${name}: interrupted; killing every child`);
      this.killAll();
      Deno.exit(130);
    };
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    return async () => {
      clearTimeout(watchdog);
      const killed = await this.killAllAndWait();
      if (killed > 0) console.error(`${name}: killed ${killed} leftover child process(es)`);
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    };
  }

  /** SIGKILLs every child still running and waits (bounded) until they are reaped. */
  async killAllAndWait(timeoutMs = 3000): Promise<number> {
    const children = [...this.#alive];
    const count = this.killAll();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(children.map((c) => c.exited)),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
    return count;
  }
}

/** Clock ticks per second for /proc times (USER_HZ), from `getconf CLK_TCK`; 100 if unknown. */
export async function clockTicksPerSecond(): Promise<number> {
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const value = Number(new TextDecoder().decode(out.stdout).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/**
 * utime + stime of a process, all threads, in clock ticks (fields 14 and 15 of /proc/PID/stat;
 * parsed after the last ")" because the command name may contain spaces).
 */
export function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field 14 is fields[11] and field 15 is fields[12].
  return Number(fields[11]) + Number(fields[12]);
}

/** The command name of a process (/proc/PID/comm), e.g. to check that taskset has exec'd. */
export function commandName(pid: number): string {
  return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
}

/** Busy and idle clock ticks of one CPU, from /proc/stat. */
export interface CoreTicks {
  busy: number;
  idle: number;
  steal: number;
}

/** Per-CPU tick counters (/proc/stat `cpuN` lines: busy = user+nice+system+irq+softirq+steal). */
export function coreTicks(): CoreTicks[] {
  const cores: CoreTicks[] = [];
  for (const line of Deno.readTextFileSync("/proc/stat").split("\n")) {
    const m = line.match(/^cpu(\d+)\s+(.*)$/);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2]!.split(/\s+/).map(Number);
    cores[Number(m[1])] = {
      busy: user! + nice! + system! + irq! + softirq! + steal!,
      idle: idle! + iowait!,
      steal: steal!,
    };
  }
  return cores;
}

/** `after - before`, CPU by CPU. */
export function coreDelta(before: CoreTicks[], after: CoreTicks[]): CoreTicks[] {
  return after.map((a, i) => ({
    busy: a.busy - (before[i]?.busy ?? 0),
    idle: a.idle - (before[i]?.idle ?? 0),
    steal: a.steal - (before[i]?.steal ?? 0),
  }));
}
