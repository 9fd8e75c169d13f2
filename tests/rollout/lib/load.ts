// The load: wrk with tests/rollout/mix.lua (GET / and POST /echo, alternating), and its report.

import type { Child } from "../../../tools/lib/child.ts";
import type { Children } from "../../../tools/lib/children.ts";
import { parseWrk, startWrk, wrkMaxLatencyMs } from "../../../tools/lib/wrk.ts";

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

/**
 * Parses wrk's report and the script's `ROLLOUT {...}` line.
 * @throws {Error} when the summary or the script's line is missing.
 */
export function parseLoad(text: string): LoadResult {
  const script = text.match(/^ROLLOUT (\{.*\})$/m);
  if (!script) throw new Error(`wrk: no ROLLOUT line from mix.lua in its output:\n${text}`);
  const wrk = parseWrk(text);
  const counted = JSON.parse(script[1]!) as {
    status: Record<string, number>;
    get: number;
    post: number;
    badBody: number;
  };
  return {
    requests: wrk.requests,
    durationS: wrk.durationS,
    rps: wrk.rps,
    latencyMs: { p50: wrk.latencyMs.p50, p99: wrk.latencyMs.p99, max: wrkMaxLatencyMs(text) },
    status: counted.status,
    non2xxWrk: wrk.non2xx,
    socketErrors: wrk.socketErrors,
    badBody: counted.badBody,
    sent: { get: counted.get, post: counted.post },
  };
}

/** A running load. */
export interface Load {
  readonly child: Child;
  /** When wrk was started (on the Children's clock). */
  readonly startedAt: number;
  /** Resolves with the report once wrk has finished. */
  readonly result: Promise<LoadResult>;
}

/** Starts `wrk -t1 -c<n> -d<s>s --latency --timeout 2s -s mix.lua url [-- close]`. */
export function startLoad(children: Children, url: string, options: LoadOptions): Load {
  const { child, output } = startWrk(children, url, {
    bin: options.bin,
    connections: options.connections ?? 32,
    durationS: options.durationS,
    timeoutS: 2,
    script: { path: options.script, args: options.closeEachRequest ? ["close"] : [] },
    cwd: options.cwd,
  });
  return { child, startedAt: child.spawnedAt, result: output.then(parseLoad) };
}
