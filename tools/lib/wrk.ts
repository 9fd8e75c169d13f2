// wrk: start it (optionally pinned to a CPU, optionally with a Lua script) and parse its report.

import type { Child } from "./child.ts";
import type { Children } from "./children.ts";

/** wrk's report, in numbers. */
export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency percentiles from `--latency`, in milliseconds. */
  latencyMs: { p50: number; p75: number; p90: number; p99: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's "Non-2xx or 3xx responses" (status > 399). */
  non2xx: number;
}

/** Options of {@linkcode startWrk} and {@linkcode runWrk}. */
export interface WrkOptions {
  /**
   * The wrk binary.
   * @default "wrk"
   */
  bin?: string;
  /** @default 1 */
  threads?: number;
  /** @default 50 */
  connections?: number;
  /** Seconds of load. */
  durationS: number;
  /**
   * wrk's `--timeout`, seconds.
   * @default undefined (wrk's own, 2 s)
   */
  timeoutS?: number;
  /**
   * A Lua script (`-s`), and the arguments it gets after `--`.
   * @default undefined (none)
   */
  script?: { path: string; args?: readonly string[] };
  /**
   * CPU to pin wrk to.
   * @default undefined (not pinned)
   */
  cpu?: number;
  cwd: string;
}

/** A running wrk. */
export interface WrkRun {
  readonly child: Child;
  /** Resolves with what wrk printed once it has exited with code 0. */
  readonly output: Promise<string>;
}

const _UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function _ms(value: string, unit: string): number {
  const factor = _UNITS_MS[unit];
  if (factor === undefined) throw new Error(`wrk: unknown time unit ${JSON.stringify(unit)}`);
  return Number(value) * factor;
}

/** Socket errors and non-2xx answers of one wrk run. */
export function wrkErrors(w: WrkResult): number {
  const e = w.socketErrors;
  return e.connect + e.read + e.write + e.timeout + w.non2xx;
}

/**
 * Parses wrk 4.x output (with `--latency`).
 * @throws {Error} when the summary lines are missing.
 */
export function parseWrk(text: string): WrkResult {
  const total = text.match(/(\d+) requests in ([\d.]+)(us|ms|s|m)/);
  const rps = text.match(/Requests\/sec:\s+([\d.]+)/);
  if (!total || !rps) throw new Error(`wrk: cannot parse its output:\n${text}`);
  const pct = (p: number): number => {
    const m = text.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
    return m ? _ms(m[1]!, m[2]!) : NaN;
  };
  const errors = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = text.match(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requests: Number(total[1]),
    durationS: _ms(total[2]!, total[3]!) / 1000,
    rps: Number(rps[1]),
    latencyMs: { p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99) },
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

/** The Max column of wrk's `Latency` line, in milliseconds; NaN when missing. */
export function wrkMaxLatencyMs(text: string): number {
  const max = text.match(/^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/m);
  return max ? _ms(max[1]!, max[2]!) : NaN;
}

/**
 * Starts `[taskset -c CPU] wrk -tT -cC -dDs --latency [--timeout Ns] [-s script] URL [-- args]`.
 * wrk is killed if it runs 15 s past its duration.
 */
export function startWrk(children: Children, url: string, options: WrkOptions): WrkRun {
  const args = [
    `-t${options.threads ?? 1}`,
    `-c${options.connections ?? 50}`,
    `-d${options.durationS}s`,
    "--latency",
    ...(options.timeoutS === undefined ? [] : ["--timeout", `${options.timeoutS}s`]),
    ...(options.script === undefined ? [] : ["-s", options.script.path]),
    url,
    ...(options.script?.args?.length ? ["--", ...options.script.args] : []),
  ];
  const child = children.spawn(options.bin ?? "wrk", args, {
    cwd: options.cwd,
    cpu: options.cpu,
    name: "wrk",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), (options.durationS + 15) * 1000);
  const output = (async () => {
    try {
      const exit = await child.exited;
      await child.drained;
      if (exit.code !== 0) {
        throw new Error(`wrk exited with ${exit.code} (${exit.signal}): ${child.stderr}`);
      }
      return child.stdout;
    } finally {
      clearTimeout(timer);
    }
  })();
  return { child, output };
}

/**
 * Runs wrk (see {@linkcode startWrk}) and parses its report.
 * @throws {Error} when wrk fails or its output cannot be parsed.
 */
export async function runWrk(
  children: Children,
  url: string,
  options: WrkOptions,
): Promise<WrkResult> {
  return parseWrk(await startWrk(children, url, options).output);
}
