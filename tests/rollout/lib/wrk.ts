// The load: wrk with tests/rollout/mix.lua (GET / and POST /echo, alternating), and its report.

import type { Child, Children } from "./processes.ts";

/** Everything wrk and the Lua script counted. */
export interface LoadResult {
  /** Complete responses, whatever their status. */
  requests: number;
  durationS: number;
  rps: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Responses by status, counted by the script's `response()`. */
  status: Record<string, number>;
  /** wrk's own "Non-2xx or 3xx responses" (status > 399). */
  non2xxWrk: number;
  /** Socket errors between wrk and its target. */
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** 200 answers whose body was neither `ok` nor the echoed body. */
  badBody: number;
  /** Requests the script generated, by method (including ones that then failed). */
  sent: { get: number; post: number };
}

/** Options of {@linkcode startLoad}. */
export interface LoadOptions {
  /** The wrk binary. */
  bin: string;
  /** Absolute path of mix.lua. */
  script: string;
  durationS: number;
  /** @default 32 */
  connections?: number;
  /**
   * Send `Connection: close` with every request (one connection per request to the target).
   * @default false
   */
  closeEachRequest?: boolean;
  cwd: string;
}

const _UNITS_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function _ms(value: string, unit: string): number {
  const factor = _UNITS_MS[unit];
  if (factor === undefined) throw new Error(`wrk: unknown time unit ${JSON.stringify(unit)}`);
  return Number(value) * factor;
}

/**
 * Parses wrk 4.x output (with `--latency`) and the script's `ROLLOUT {...}` line.
 * @throws {Error} when the summary or the script's line is missing.
 */
export function parseLoad(text: string): LoadResult {
  const total = text.match(/(\d+) requests in ([\d.]+)(us|ms|s|m)/);
  const rps = text.match(/Requests\/sec:\s+([\d.]+)/);
  const script = text.match(/^ROLLOUT (\{.*\})$/m);
  if (!total || !rps || !script) throw new Error(`wrk: cannot parse its output:\n${text}`);
  const pct = (p: number): number => {
    const m = text.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
    return m ? _ms(m[1]!, m[2]!) : NaN;
  };
  const max = text.match(/^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/m);
  const errors = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = text.match(/Non-2xx or 3xx responses: (\d+)/);
  const counted = JSON.parse(script[1]!) as {
    status: Record<string, number>;
    get: number;
    post: number;
    badBody: number;
  };
  return {
    requests: Number(total[1]),
    durationS: _ms(total[2]!, total[3]!) / 1000,
    rps: Number(rps[1]),
    latencyMs: { p50: pct(50), p99: pct(99), max: max ? _ms(max[1]!, max[2]!) : NaN },
    status: counted.status,
    non2xxWrk: Number(non2xx?.[1] ?? 0),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    badBody: counted.badBody,
    sent: { get: counted.get, post: counted.post },
  };
}

/** A running load. */
export interface Load {
  readonly child: Child;
  /** `Date.now()` when wrk was started. */
  readonly startedAt: number;
  /** Resolves with the report once wrk has finished. */
  readonly result: Promise<LoadResult>;
}

/** Starts `wrk -t1 -c<n> -d<s>s --latency --timeout 2s -s mix.lua url [-- close]`. */
export function startLoad(children: Children, url: string, options: LoadOptions): Load {
  const args = [
    "-t1",
    `-c${options.connections ?? 32}`,
    `-d${options.durationS}s`,
    "--latency",
    "--timeout",
    "2s",
    "-s",
    options.script,
    url,
    ...(options.closeEachRequest ? ["--", "close"] : []),
  ];
  const startedAt = Date.now();
  const child = children.spawn("wrk", options.bin, args, { cwd: options.cwd });
  // wrk ends by itself; kill it if it runs well past its duration.
  const timer = setTimeout(() => child.kill("SIGKILL"), (options.durationS + 15) * 1000);
  const result = (async () => {
    try {
      const exit = await child.exited;
      await child.drained;
      if (exit.code !== 0) {
        throw new Error(`wrk exited with ${exit.code} (${exit.signal}): ${child.stderr}`);
      }
      return parseLoad(child.stdout);
    } finally {
      clearTimeout(timer);
    }
  })();
  return { child, startedAt, result };
}
