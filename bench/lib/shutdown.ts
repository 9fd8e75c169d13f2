// Shutdown scenarios: how long after SIGTERM an idle server exits, and how long after the last
// byte of an in-flight response the process exits.

import net from "node:net";
import type { Child } from "../../tools/lib/child.ts";
import type { Children } from "../../tools/lib/children.ts";
import type { RuntimeCommand } from "../../tools/lib/runtimes.ts";
import { type Distribution, distribution, round } from "./stats.ts";

/** Shared settings of the shutdown scenarios. */
export interface ShutdownSettings {
  children: Children;
  root: string;
  /** examples/demo.ts */
  demo: string;
  /** bench/servers/hello.ts */
  fixture: string;
  /** bench/servers/empty.ts */
  empty: string;
  runs: number;
  /** Pause between "listening" and the measurement, so startup work does not overlap it. */
  settleMs: number;
  /** Duration of GET /slow. */
  slowMs: number;
  /** When SIGTERM is sent, counted from the moment the request was written. */
  signalAfterMs: number;
  log: (line: string) => void;
}

/** What is measured: the demo (library), the raw runtime server, or an empty script. */
export type Subject = "demo" | "raw" | "empty";

/** One idle-shutdown sample. */
export interface IdleSample {
  subject: Subject;
  run: number;
  /** demo/raw: SIGTERM sent → exit seen; empty: spawn → exit seen. Milliseconds. */
  ms: number;
  code: number;
}

/** One last-byte sample. */
export interface LastByteSample {
  subject: Exclude<Subject, "empty">;
  run: number;
  status: number;
  body: string;
  /** Whether the response carried `Connection: close`. */
  connectionClose: boolean;
  /** Whether the body came chunked (no Content-Length). */
  chunked: boolean;
  /** SIGTERM sent, counted from the request write. */
  signalAtMs: number;
  /** Last byte received, counted from the request write. */
  lastByteAtMs: number;
  /** Last byte → process exit seen by the orchestrator. The measured metric. */
  lastByteToExitMs: number;
  /** Last byte → FIN from the server (NaN if the socket was not closed by the server). */
  lastByteToFinMs: number;
  /**
   * Demo only: last byte → arrival of the library's last log line ("shutdown complete", written
   * just before the exit), i.e. the library's share of lastByteToExitMs; NaN for raw.
   */
  lastByteToReportMs: number;
  code: number;
  ok: boolean;
}

/** Everything measured for one runtime. */
export interface ShutdownResult {
  runtime: RuntimeCommand["name"];
  idle: IdleSample[];
  lastByte: LastByteSample[];
  summary: {
    idle: Record<Subject, Distribution>;
    lastByteToExit: Record<"demo" | "raw", Distribution>;
    /** The demo's last byte → the library's last log line (see LastByteSample). */
    lastByteToReport: Distribution;
    /** Samples that were not a clean 200 + exit 0 (they are kept out of the distributions). */
    failures: number;
  };
}

function _sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function _start(s: ShutdownSettings, runtime: RuntimeCommand, subject: Subject): Child {
  if (subject === "demo") {
    return s.children.spawn(runtime.bin, runtime.serverArgs(s.demo), {
      cwd: s.root,
      env: { PORT: "0", HOSTNAME: "127.0.0.1" },
    });
  }
  if (subject === "raw") {
    return s.children.spawn(runtime.bin, runtime.serverArgs(s.fixture), {
      cwd: s.root,
      env: { MODE: "raw", APP: "hono", SLOW: "1", PORT: "0" },
    });
  }
  return s.children.spawn(runtime.bin, runtime.bareArgs(s.empty), { cwd: s.root });
}

async function _ready(child: Child): Promise<number> {
  const match = await child.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 20_000);
  return Number(match[1]);
}

async function _exitWithin(s: ShutdownSettings, child: Child, ms: number): Promise<void> {
  if (!(await child.exitWithin(ms))) {
    await s.children.stop(child, { graceMs: 0 });
    throw new Error(`pid ${child.pid} did not exit within ${ms} ms; killed`);
  }
}

async function _idleSample(
  s: ShutdownSettings,
  runtime: RuntimeCommand,
  subject: Subject,
  run: number,
): Promise<IdleSample> {
  const child = _start(s, runtime, subject);
  try {
    if (subject === "empty") {
      await _exitWithin(s, child, 20_000);
      const exit = await child.exited;
      return { subject, run, ms: exit.at - child.spawnedAt, code: exit.code };
    }
    await _ready(child);
    await _sleep(s.settleMs);
    const sent = performance.now();
    child.kill("SIGTERM");
    await _exitWithin(s, child, 15_000);
    const exit = await child.exited;
    return { subject, run, ms: exit.at - sent, code: exit.code };
  } finally {
    if (!child.exit) await s.children.stop(child, { graceMs: 0 });
  }
}

/** The body once `length` bytes have arrived, else undefined. */
function _fixed(body: string, length: number): string | undefined {
  return body.length >= length ? body.slice(0, length) : undefined;
}

/** The decoded body once the last chunk (size 0) has arrived, else undefined. */
function _dechunk(raw: string): string | undefined {
  let out = "";
  let at = 0;
  while (true) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = parseInt(raw.slice(at, eol), 16);
    if (!Number.isFinite(size)) throw new Error(`bad chunk size in ${JSON.stringify(raw)}`);
    if (size === 0) return raw.startsWith("\r\n", eol + 2) ? out : undefined;
    if (raw.length < eol + 2 + size + 2) return undefined;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** What the client saw of the response. */
interface _Response {
  status: number;
  body: string;
  chunked: boolean;
  connectionClose: boolean;
  lastByteAt: number;
}

/** A raw-socket HTTP/1.1 client that timestamps the last byte of the response. */
function _slowRequest(port: number, path: string): {
  written: Promise<number>;
  response: Promise<_Response>;
  fin: Promise<number>;
  destroy: () => void;
} {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  const written = Promise.withResolvers<number>();
  const response = Promise.withResolvers<_Response>();
  const fin = Promise.withResolvers<number>();
  let text = "";
  let settled = false;
  socket.on("connect", () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, () => {
      written.resolve(performance.now());
    });
  });
  socket.on("data", (chunk: Uint8Array) => {
    const at = performance.now();
    // Headers and body are ASCII here; latin1 keeps one char per byte for the length check.
    text += new TextDecoder("latin1").decode(chunk);
    if (settled) return;
    const end = text.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = text.slice(0, end);
    const body = text.slice(end + 4);
    const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
    const length = head.match(/^content-length:\s*(\d+)\s*$/im);
    const chunked = /^transfer-encoding:\s*chunked\s*$/im.test(head);
    const decoded = length ? _fixed(body, Number(length[1])) : chunked ? _dechunk(body) : undefined;
    if (decoded === undefined) return;
    settled = true;
    response.resolve({
      status,
      body: decoded,
      chunked,
      connectionClose: /^connection:\s*close\s*$/im.test(head),
      lastByteAt: at,
    });
  });
  socket.on("end", () => fin.resolve(performance.now()));
  socket.on("close", () => {
    fin.resolve(NaN);
    if (!settled) response.reject(new Error(`connection closed before the response:\n${text}`));
  });
  socket.on("error", (error: Error) => {
    written.reject(error);
    if (!settled) response.reject(error);
  });
  // Observe early rejections; callers await these later.
  written.promise.catch(() => {});
  response.promise.catch(() => {});
  return {
    written: written.promise,
    response: response.promise,
    fin: fin.promise,
    destroy: () => socket.destroy(),
  };
}

async function _lastByteSample(
  s: ShutdownSettings,
  runtime: RuntimeCommand,
  subject: "demo" | "raw",
  run: number,
): Promise<LastByteSample> {
  const child = _start(s, runtime, subject);
  let client: ReturnType<typeof _slowRequest> | undefined;
  try {
    const port = await _ready(child);
    await _sleep(s.settleMs);
    client = _slowRequest(port, `/slow?ms=${s.slowMs}`);
    const writtenAt = await client.written;
    await _sleep(Math.max(0, s.signalAfterMs - (performance.now() - writtenAt)));
    const signalAt = performance.now();
    child.kill("SIGTERM");
    const response = await client.response;
    await _exitWithin(s, child, 15_000);
    const exit = await child.exited;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finAt = await Promise.race([
      client.fin,
      new Promise<number>((resolve) => timer = setTimeout(() => resolve(NaN), 1000)),
    ]);
    clearTimeout(timer);
    const expected = `slept ${s.slowMs} ms`;
    return {
      subject,
      run,
      status: response.status,
      body: response.body,
      connectionClose: response.connectionClose,
      chunked: response.chunked,
      signalAtMs: signalAt - writtenAt,
      lastByteAtMs: response.lastByteAt - writtenAt,
      lastByteToExitMs: exit.at - response.lastByteAt,
      lastByteToFinMs: finAt - response.lastByteAt,
      lastByteToReportMs: (child.stderrAt(/shutdown complete in/) ?? NaN) - response.lastByteAt,
      code: exit.code,
      ok: response.status === 200 && response.body === expected && exit.code === 0,
    };
  } finally {
    client?.destroy();
    if (!child.exit) await s.children.stop(child, { graceMs: 0 });
  }
}

/** Runs both shutdown scenarios for one runtime, rotating the subjects run by run. */
export async function shutdownScenarios(
  s: ShutdownSettings,
  runtime: RuntimeCommand,
): Promise<ShutdownResult> {
  const idle: IdleSample[] = [];
  const lastByte: LastByteSample[] = [];
  for (let run = 0; run < s.runs; run++) {
    for (const subject of ["demo", "raw", "empty"] as const) {
      idle.push(await _idleSample(s, runtime, subject, run));
    }
  }
  const idleOf = (subject: Subject): number[] =>
    idle.filter((x) => x.subject === subject && x.code === 0).map((x) => x.ms);
  s.log(
    `  ${runtime.name} idle SIGTERM→exit p50: demo ${
      round(distribution(idleOf("demo")).p50, 1)
    } ms,` +
      ` raw ${round(distribution(idleOf("raw")).p50, 1)} ms; empty start→exit ` +
      `${round(distribution(idleOf("empty")).p50, 1)} ms`,
  );
  for (let run = 0; run < s.runs; run++) {
    for (const subject of ["demo", "raw"] as const) {
      const sample = await _lastByteSample(s, runtime, subject, run);
      lastByte.push(sample);
      s.log(
        `  ${runtime.name} last byte→exit ${subject.padEnd(4)} run ${run + 1}/${s.runs}: ` +
          `${round(sample.lastByteToExitMs, 2)} ms (SIGTERM at +${
            round(sample.signalAtMs, 1)
          } ms, last byte at +${round(sample.lastByteAtMs, 1)} ms, status ${sample.status}, ` +
          `${sample.chunked ? "chunked, " : ""}` +
          `${sample.connectionClose ? "Connection: close, " : ""}` +
          `FIN +${round(sample.lastByteToFinMs, 2)} ms, ` +
          `${
            subject === "demo" ? `last log line +${round(sample.lastByteToReportMs, 2)} ms, ` : ""
          }` +
          `exit ${sample.code}${sample.ok ? "" : `, NOT OK: ${JSON.stringify(sample.body)}`})`,
      );
    }
  }
  const lastOf = (subject: "demo" | "raw"): number[] =>
    lastByte.filter((x) => x.subject === subject && x.ok).map((x) => x.lastByteToExitMs);
  return {
    runtime: runtime.name,
    idle,
    lastByte,
    summary: {
      idle: {
        demo: distribution(idleOf("demo")),
        raw: distribution(idleOf("raw")),
        empty: distribution(idleOf("empty")),
      },
      lastByteToExit: { demo: distribution(lastOf("demo")), raw: distribution(lastOf("raw")) },
      lastByteToReport: distribution(
        lastByte.filter((x) =>
          x.subject === "demo" && x.ok && Number.isFinite(x.lastByteToReportMs)
        )
          .map((x) => x.lastByteToReportMs),
      ),
      failures: idle.filter((x) => x.code !== 0).length + lastByte.filter((x) => !x.ok).length,
    },
  };
}
