// Runs wrk (pinned to a CPU) and parses its report.

import type { Processes } from "./processes.ts";

/** wrk's report, in numbers. */
export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency percentiles from `--latency`, in milliseconds. */
  latencyMs: { p50: number; p75: number; p90: number; p99: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
}

/** Options of {@linkcode runWrk}. */
export interface WrkOptions {
  /** @default 1 */
  threads?: number;
  /** @default 50 */
  connections?: number;
  /** Seconds of load. */
  durationS: number;
  /** CPU to pin wrk to. */
  cpu: number;
  cwd: string;
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
  const errors = text.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
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

/**
 * Runs `taskset -c CPU wrk -tT -cC -dDs --latency URL` and parses the result. wrk is killed if
 * it runs 15 s past its duration.
 * @throws {Error} when wrk fails or its output cannot be parsed.
 */
export async function runWrk(
  processes: Processes,
  url: string,
  options: WrkOptions,
): Promise<WrkResult> {
  const args = [
    `-t${options.threads ?? 1}`,
    `-c${options.connections ?? 50}`,
    `-d${options.durationS}s`,
    "--latency",
    url,
  ];
  const child = processes.spawn("wrk", args, { cwd: options.cwd, cpu: options.cpu });
  const timer = setTimeout(() => child.kill("SIGKILL"), (options.durationS + 15) * 1000);
  try {
    const exit = await child.exited;
    if (exit.code !== 0) {
      throw new Error(`wrk exited with ${exit.code} (${exit.signal}): ${child.stderr}`);
    }
    await child.drained;
    return parseWrk(child.stdout);
  } finally {
    clearTimeout(timer);
  }
}

/** wrk's version line, e.g. `wrk debian/4.1.0-3 [epoll]`. */
export async function wrkVersion(): Promise<string> {
  try {
    const out = await new Deno.Command("wrk", { args: ["-v"], stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.split("\n")[0]!.replace(/\s+Copyright.*$/, "").trim();
  } catch {
    return "unknown";
  }
}
