// Helpers for the integration tests: run examples/demo.ts as a real child process on Deno or Bun,
// send it real signals, and talk to it with real clients: node:net where the test needs
// byte-level control (slow uploads, FIN/RST, ECONNREFUSED), curl and fetch elsewhere.
// Uses only node: modules so that it runs under `deno test` (and `bun test`) unchanged.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, realpathSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { _olderThan } from "../../src/runtime/release.ts";

/** The runtime the demo runs on. */
export type RuntimeName = "deno" | "bun";

/** The signals the tests send. */
export type SignalName = "SIGTERM" | "SIGINT" | "SIGKILL";

/** The repository root (the demo's working directory). */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

// ---------------------------------------------------------------------------------------------
// The runtimes the servers run on

/**
 * The pinned releases' real binaries. Not `node_modules/.bin/`: in a plain install of the `deno`
 * package that is a Node wrapper that does not forward signals (a SIGTERM kills the wrapper and
 * leaves the server running).
 */
export const PINNED_BINARIES: Readonly<Record<RuntimeName, string>> = {
  deno: join(ROOT, "node_modules", "deno", "deno"),
  bun: join(ROOT, "node_modules", "bun", "bin", "bun.exe"),
};

const _BINARY_ENV: Record<RuntimeName, string> = { deno: "GRACEFUL_DENO", bun: "GRACEFUL_BUN" };

function _binary(runtime: RuntimeName): string {
  const name = _BINARY_ENV[runtime];
  const configured = process.env[name];
  if (configured === undefined || configured === "") return PINNED_BINARIES[runtime];
  if (!existsSync(configured)) {
    throw new TypeError(`${name} must be the path of a ${runtime} binary, received ${configured}`);
  }
  return configured;
}

/**
 * The binary the servers of each runtime run on: `$GRACEFUL_DENO` / `$GRACEFUL_BUN` when set
 * (npm run test:compat sets them to older releases, see tools/compat/), else the pinned one. The
 * test runner itself, and the tests' own clients, stay on the pinned releases.
 */
export const BINARIES: Readonly<Record<RuntimeName, string>> = {
  deno: _binary("deno"),
  bun: _binary("bun"),
};

function _runtimes(): RuntimeName[] {
  const configured = process.env.GRACEFUL_ONLY;
  if (configured === undefined || configured === "") return ["deno", "bun"];
  const names = configured.split(",").map((name) => name.trim());
  for (const name of names) {
    // "node" alone runs the Node tests only (tests/integration/_node.ts reads it).
    if (name !== "deno" && name !== "bun" && name !== "node") {
      throw new TypeError(
        `GRACEFUL_ONLY must list "deno", "bun" and/or "node" (comma-separated), received ${configured}`,
      );
    }
  }
  return (["deno", "bun"] as const).filter((name) => names.includes(name));
}

/** The runtimes whose tests run: both, or those listed in `$GRACEFUL_ONLY` (`deno`, `bun`, `node`). */
export const RUNTIMES: readonly RuntimeName[] = _runtimes();

function _version(binary: string): string {
  // Deno 2.2/2.5's node:child_process takes a spawn of its own binary for a Node one and rewrites
  // the arguments (`deno run --version`): ask the running Deno instead.
  const deno = (globalThis as { Deno?: { execPath(): string; version: { deno: string } } }).Deno;
  if (deno !== undefined && realpathSync(binary) === realpathSync(deno.execPath())) {
    return deno.version.deno;
  }
  const result = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 30_000 });
  const version = /(\d+\.\d+\.\d+)/.exec(result.stdout ?? "")?.[1];
  if (result.status !== 0 || version === undefined) {
    throw new Error(`${binary} --version failed: ${result.stderr ?? result.error}`);
  }
  return version;
}

/** The release each runtime's servers run on, as `<binary> --version` reports it. */
export const VERSIONS: Readonly<Record<RuntimeName, string>> = {
  deno: RUNTIMES.includes("deno") ? _version(BINARIES.deno) : "",
  bun: RUNTIMES.includes("bun") ? _version(BINARIES.bun) : "",
};

/** `deno 2.9.5`, `bun 1.3.14`: what the servers of `runtime` run on, for test names. */
export function runtimeLabel(runtime: RuntimeName): string {
  return `${runtime} ${VERSIONS[runtime]}`;
}

/**
 * Whether the servers of `runtime` run on a release older than `version` (`"2.6.0"`), for the
 * runtime behaviours no probe can show; say at the call which releases do what, and why.
 */
export function releaseBefore(runtime: RuntimeName, version: string): boolean {
  return _olderThan(VERSIONS[runtime], version);
}

/**
 * Whether servers on `runtime` take Deno's public-API path (GRACEFUL_SERVE_INTERNALS=off, which
 * the demo inherits): a body streamed before the shutdown is then left to Deno's own shutdown and
 * not counted (docs/internals.md).
 */
export function publicDenoPath(runtime: string): boolean {
  return runtime === "deno" && process.env.GRACEFUL_SERVE_INTERNALS === "off";
}

/**
 * Why tests that run Deno.serve inside the test runner itself are skipped, or `false` when they
 * run: they test the runner's Deno, so they run only when that is the release the servers are to
 * run on (npm run test:compat runs them under the older release's own `deno test`).
 */
export function inProcessDenoSkip(): string | false {
  if (!RUNTIMES.includes("deno")) return "GRACEFUL_ONLY leaves Deno out";
  const runner = (globalThis as { Deno?: { version: { deno: string } } }).Deno?.version.deno;
  if (runner === undefined) return "not running under Deno";
  if (runner !== VERSIONS.deno) {
    return `in-process Deno tests run on the runner's Deno ${runner}, not on ${
      runtimeLabel("deno")
    } (${BINARIES.deno}): run them with that binary's own \`deno test\``;
  }
  return false;
}

/** The command line that runs `script` on `runtime` (the servers' binary, with `flags`). */
export function runtimeCommand(
  runtime: RuntimeName,
  script: string,
  flags: readonly string[] = [],
): [string, ...string[]] {
  return runtime === "deno"
    ? [BINARIES.deno, "run", "--allow-net", "--allow-env", "--allow-read", ...flags, script]
    : [BINARIES.bun, ...flags, script];
}

// The first thing a test file's output says: what its servers run on (the Node tests name their
// own binaries).
console.error(
  RUNTIMES.length === 0
    ? "servers run on: no Deno or Bun (GRACEFUL_ONLY leaves both out)"
    : `servers run on: ${
      RUNTIMES.map((runtime) => `${runtimeLabel(runtime)} (${BINARIES[runtime]})`).join(", ")
    }`,
);

/** How long the demo may take to print its `listening on` line. */
const _START_TIMEOUT_MS = 10_000;

/** How a child process ended. */
export interface Exit {
  /** The exit code, or `null` when the process was killed by a signal. */
  code: number | null;
  /** The signal that killed the process, or `null` when it exited by itself. */
  signal: string | null;
  /** `performance.now()` when the process exited. */
  at: number;
}

/** A running demo server; `R` names what it runs on (a runtime, or e.g. "node 24.21.0"). */
export interface Demo<R extends string = RuntimeName> {
  readonly runtime: R;
  /** The port the demo listens on (127.0.0.1). */
  readonly port: number;
  readonly pid: number;
  /** Sends `signal` to the demo process itself; returns `performance.now()` at the send. */
  kill(signal: SignalName): number;
  /** Everything the demo wrote to stderr so far. */
  stderr(): string;
  /** Everything the demo wrote to stdout so far. */
  stdout(): string;
  /** Resolves once the demo has written `text` to stderr; rejects after `timeoutMs`. */
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  /** Settles once the process exited and its output was read to the end. */
  readonly exited: Promise<Exit>;
  /** {@linkcode exited}, or a rejection quoting stderr after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<Exit>;
  /** Whether the process has exited already. */
  readonly hasExited: boolean;
}

// Every child started by startDemo(), so that cleanup() can reap what a failing test left.
const _children = new Set<ChildProcess>();

/**
 * Sends `signal` to a child with process.kill() rather than child.kill(): in Deno 2.9.5's
 * node:child_process, child.kill() makes the "exit" event report the signal sent even when the
 * child trapped it and exited with its own code, and refuses any later signal (deno#36643).
 */
function _signal(child: ChildProcess, signal: SignalName): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch (error) {
    // ESRCH: it exited between the check and the kill.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

// Raw connections still open, so that a failing test does not leave sockets behind.
const _sockets = new Set<net.Socket>();

/** SIGKILLs every demo still running and destroys every raw connection (afterEach/after). */
export function cleanup(): void {
  for (const child of _children) _signal(child, "SIGKILL");
  _children.clear();
  for (const socket of _sockets) socket.destroy();
  _sockets.clear();
}

/** Options of {@linkcode startDemo}. */
export interface StartDemoOptions {
  /**
   * Runtime flags put before the script, e.g. `["--unstable-net"]` for Deno's `reusePort`.
   * @default []
   */
  flags?: readonly string[];
  /**
   * The script to run instead of the demo, relative to the repository root; it must print
   * `listening on http://127.0.0.1:<port>` like the demo.
   * @default "examples/demo.ts"
   */
  script?: string;
}

/**
 * Starts examples/demo.ts on `runtime` with PORT=0 HOSTNAME=127.0.0.1 plus `env`, and resolves once
 * it printed `listening on http://127.0.0.1:<port>`.
 */
export function startDemo(
  runtime: RuntimeName,
  env: Record<string, string> = {},
  options: StartDemoOptions = {},
): Promise<Demo> {
  const argv = runtimeCommand(runtime, options.script ?? "examples/demo.ts", options.flags);
  return startProcess(runtime, argv, env);
}

/**
 * Starts `argv` (a demo-like server that prints `listening on <origin>`) with PORT=0
 * HOSTNAME=127.0.0.1 plus `env`; `runtime` names it in messages. cleanup() reaps it.
 */
export function startProcess<R extends string>(
  runtime: R,
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<Demo<R>> {
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", PORT: "0", HOSTNAME: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  _children.add(child);
  let stdout = "";
  let stderr = "";
  const stderrWaiters = new Set<() => void>();
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    stderr += text;
    for (const check of [...stderrWaiters]) check();
  });

  let exitAt = 0;
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  child.on("exit", (code, signal) => {
    exitAt = performance.now();
    exitCode = code;
    exitSignal = signal;
  });
  // "close" comes after "exit" once stdout and stderr are drained, so stderr() is complete then.
  const exited = new Promise<Exit>((resolve) => {
    child.on("close", () => {
      _children.delete(child);
      for (const check of [...stderrWaiters]) check();
      resolve({ code: exitCode, signal: exitSignal, at: exitAt || performance.now() });
    });
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.on("error", (error) => reject(error));
  });
  spawnError.catch(() => {});

  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      _signal(child, "SIGKILL");
      settle(
        new Error(
          `${runtime} demo did not print "listening on" within ${_START_TIMEOUT_MS} ms\n` +
            `stdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, _START_TIMEOUT_MS);
    const settle = (result: number | Error): void => {
      clearTimeout(timer);
      if (typeof result === "number") resolve(result);
      else reject(result);
    };
    child.stdout!.on("data", (text: string) => {
      stdout += text;
      const match = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) settle(Number(match[1]));
    });
    exited.then((exit) => {
      settle(
        new Error(
          `${runtime} demo exited before listening (code ${exit.code}, signal ${exit.signal})\n` +
            `stderr: ${stderr}`,
        ),
      );
    });
    spawnError.catch(settle);
  });

  return listening.then((port) => ({
    runtime,
    port,
    pid: child.pid!,
    kill(signal: SignalName): number {
      const at = performance.now();
      _signal(child, signal);
      return at;
    },
    stderr: () => stderr,
    stdout: () => stdout,
    waitForStderr(text: string, timeoutMs = 5_000): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          stderrWaiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = (): void => {
          if (stderr.includes(text)) finish();
          else if (child.exitCode !== null || child.signalCode !== null) {
            finish(
              new Error(
                `${runtime} demo exited without writing ${JSON.stringify(text)}:\n${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          finish(
            new Error(`no ${JSON.stringify(text)} on stderr after ${timeoutMs} ms:\n${stderr}`),
          );
        }, timeoutMs);
        stderrWaiters.add(check);
        check();
      });
    },
    exited,
    waitForExit(timeoutMs: number): Promise<Exit> {
      return within(exited, timeoutMs, `${runtime} demo to exit`).catch((error: Error) => {
        throw new Error(`${error.message}; stderr so far:\n${stderr}`);
      });
    },
    get hasExited(): boolean {
      return child.exitCode !== null || child.signalCode !== null;
    },
  }));
}

/** Resolves with `promise`, or rejects with `what` once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A TCP port free on 127.0.0.1 right now (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The hex SHA-256 of `data`. */
export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over node:net

/** A response parsed from raw bytes. */
export interface RawResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Map<string, string>;
  /** The body, de-chunked. */
  body: Uint8Array;
  /** How many bytes the whole response took on the wire. */
  length: number;
}

/** How a raw connection ended. */
export interface Closed {
  /** The socket error code (`ECONNRESET`, `EPIPE`, ...), or `null` for a clean FIN. */
  error: string | null;
  /** `performance.now()` when the socket closed. */
  at: number;
}

/** The connection closed before a complete response arrived. */
export class ClosedBeforeResponse extends Error {
  /** How many bytes of the awaited response (or text) had arrived. */
  readonly bytes: number;
  /** The socket error code, or `null` for a clean FIN. */
  readonly code: string | null;
  constructor(bytes: number, code: string | null, received: string) {
    super(
      `connection closed (${code ?? "FIN"}) before a complete response; ${bytes} byte(s) received` +
        (bytes > 0 ? `:\n${received.slice(0, 500)}` : ""),
    );
    this.name = "ClosedBeforeResponse";
    this.bytes = bytes;
    this.code = code;
  }
}

/** Builds a request head; `Host` is added. */
export function requestHead(
  method: string,
  path: string,
  headers: Record<string, string> = {},
): string {
  const lines = [`${method} ${path} HTTP/1.1`, "Host: 127.0.0.1"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return lines.join("\r\n") + "\r\n\r\n";
}

/** One HTTP/1.1 connection driven byte by byte. */
export class RawConnection {
  readonly socket: net.Socket;
  /** Settles when the socket is fully closed. */
  readonly closed: Promise<Closed>;
  #received: Uint8Array = new Uint8Array(0);
  #consumed = 0;
  #ended = false;
  #error: string | null = null;
  #waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    _sockets.add(socket);
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(this.#received.length + chunk.length);
      next.set(this.#received);
      next.set(chunk, this.#received.length);
      this.#received = next;
      this.#notify();
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.#error ??= error.code ?? error.message;
    });
    this.closed = new Promise<Closed>((resolve) => {
      socket.on("close", () => {
        _sockets.delete(socket);
        this.#ended = true;
        resolve({ error: this.#error, at: performance.now() });
        this.#notify();
      });
    });
  }

  /** Connects to 127.0.0.1:`port`; rejects with the socket error (e.g. `code: "ECONNREFUSED"`). */
  static connect(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      const onError = (error: Error): void => reject(error);
      socket.once("error", onError);
      socket.once("connect", () => {
        socket.off("error", onError);
        socket.setNoDelay(true);
        resolve(new RawConnection(socket));
      });
    });
  }

  /** Every byte received so far. */
  get received(): Uint8Array {
    return this.#received;
  }

  /** The bytes received so far, as latin1 text. */
  get text(): string {
    return Buffer.from(this.#received).toString("latin1");
  }

  /** Whether the socket has closed. */
  get isClosed(): boolean {
    return this.#ended;
  }

  /** Writes `data`; resolves once it is handed to the OS, rejects on a socket error. */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Resolves once `predicate(text)` holds; rejects if the socket closes first or on timeout. */
  until(predicate: (text: string) => boolean, timeoutMs = 5_000): Promise<void> {
    return this.#wait(() => {
      if (predicate(this.text)) return true;
      if (this.#ended) {
        throw new ClosedBeforeResponse(this.#received.length, this.#error, this.text);
      }
      return false;
    }, timeoutMs);
  }

  /** Bytes received after the responses already returned by {@linkcode response}. */
  get unread(): Uint8Array {
    return this.#received.subarray(this.#consumed);
  }

  /**
   * Resolves with the next complete response on the connection (Content-Length, chunked, or
   * read-until-close). Rejects with {@linkcode ClosedBeforeResponse} when the connection closes
   * first (its `bytes` counts what arrived of this response), and with a plain Error after
   * `timeoutMs`.
   */
  response(timeoutMs = 5_000): Promise<RawResponse> {
    let parsed: RawResponse | undefined;
    return this.#wait(() => {
      const rest = this.unread;
      parsed = parseResponse(rest, this.#ended);
      if (parsed) {
        this.#consumed += parsed.length;
        return true;
      }
      if (this.#ended) {
        throw new ClosedBeforeResponse(
          rest.length,
          this.#error,
          Buffer.from(rest).toString("latin1"),
        );
      }
      return false;
    }, timeoutMs).then(() => parsed!);
  }

  /** Destroys the socket (the peer sees a FIN, or a RST if unread data remains). */
  destroy(): void {
    this.socket.destroy();
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }

  #wait(done: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: unknown): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error !== undefined) reject(error);
        else resolve();
      };
      const check = (): void => {
        try {
          if (done()) finish();
        } catch (error) {
          finish(error);
        }
      };
      const timer = setTimeout(() => {
        finish(
          new Error(
            `raw connection: nothing conclusive after ${timeoutMs} ms; received:\n` +
              this.text.slice(0, 500),
          ),
        );
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/**
 * Parses the first HTTP/1.1 response in `bytes`; `undefined` while incomplete. A body with neither
 * Content-Length nor chunked encoding is complete only once `ended`.
 */
export function parseResponse(bytes: Uint8Array, ended: boolean): RawResponse | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd < 0) return undefined;
  const [statusLine = "", ...lines] = buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  const rest = buffer.subarray(headEnd + 4);
  const status = Number(match[1]);
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const parts: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(rest.subarray(at, lineEnd).toString("latin1"), 16);
      if (Number.isNaN(size)) throw new Error("malformed chunk size");
      if (size === 0) {
        // Last chunk: complete once the (empty) trailer section ended.
        return rest.indexOf("\r\n", lineEnd + 2) === lineEnd + 2
          ? { status, headers, body: Buffer.concat(parts), length: headEnd + 4 + lineEnd + 4 }
          : undefined;
      }
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const length = headers.get("content-length");
  if (length !== undefined) {
    const n = Number(length);
    return rest.length >= n
      ? { status, headers, body: rest.subarray(0, n), length: headEnd + 4 + n }
      : undefined;
  }
  return ended ? { status, headers, body: rest, length: buffer.length } : undefined;
}

/** Connects to 127.0.0.1:`port` and writes a request head (plus `body`, if given). */
export async function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array,
): Promise<RawConnection> {
  const connection = await RawConnection.connect(port);
  await connection.write(requestHead(method, path, headers));
  if (body !== undefined) await connection.write(body);
  return connection;
}

/** Whether a `Connection` header value lists `close` (Deno may send `close, close`). */
export function hasClose(value: string | undefined): boolean {
  return (value ?? "").split(",").some((token) => token.trim().toLowerCase() === "close");
}

/** Tries to open a connection; resolves with the error code, or `null` when it connected. */
export async function connectError(port: number): Promise<string | null> {
  try {
    const connection = await RawConnection.connect(port);
    connection.destroy();
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

// ---------------------------------------------------------------------------------------------
// curl

/** What curl reported. */
export interface CurlResult {
  /** curl's exit code: 0 ok, 7 connection refused, 18 partial body, 52 empty reply, 56 reset. */
  exitCode: number | null;
  /** The status of the last response head, or 0 when there was none. */
  status: number;
  /** Lower-cased header names of the last response head. */
  headers: Map<string, string>;
  body: string;
  /** curl's own error message (stderr). */
  error: string;
}

/**
 * Runs `curl -s -S -i --max-time <s> ...args` and parses what it printed. `url` is
 * `http://127.0.0.1:<port><path>`.
 */
export function curl(
  port: number,
  path: string,
  args: readonly string[] = [],
  maxTimeSeconds = 10,
): Promise<CurlResult> {
  const url = `http://127.0.0.1:${port}${path}`;
  const child = spawn("curl", [
    "-s",
    "-S",
    "-i",
    "--max-time",
    String(maxTimeSeconds),
    ...args,
    url,
  ], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Uint8Array[] = [];
  let error = "";
  child.stdout!.on("data", (chunk: Uint8Array) => out.push(chunk));
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => (error += text));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (exitCode) => {
      const text = Buffer.concat(out).toString("utf8");
      let head = "";
      let body = text;
      // -i prints every head (e.g. 100 Continue); keep the last one.
      while (/^HTTP\/[\d.]+ \d{3}/.test(body)) {
        const end = body.indexOf("\r\n\r\n");
        if (end < 0) {
          head = body;
          body = "";
          break;
        }
        head = body.slice(0, end);
        body = body.slice(end + 4);
      }
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
      }
      const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({ exitCode, status, headers, body, error });
    });
  });
}

/** Asserts that a demo or fixture exited by itself with `code`, quoting its stderr otherwise. */
export function assertExit(
  exit: Exit,
  code: number,
  child: { runtime: string; stderr(): string },
): void {
  if (exit.code === code && exit.signal === null) return;
  throw new Error(
    `${child.runtime}: expected exit ${code}, got code ${exit.code} signal ${exit.signal}; ` +
      `stderr:\n${child.stderr()}`,
  );
}

/**
 * The next response on `connection`, or the ClosedBeforeResponse error: the library's promise for
 * a request that meets the shutdown is either a complete response or a connection closed before
 * any byte of it, never a partial response.
 */
export async function outcomeOf(
  connection: { response(timeoutMs: number): Promise<RawResponse> },
  timeoutMs = 5_000,
): Promise<RawResponse | ClosedBeforeResponse> {
  try {
    return await connection.response(timeoutMs);
  } catch (error) {
    if (error instanceof ClosedBeforeResponse) return error;
    throw error;
  }
}

/** Reads a fetch body to its end; `error` is set when the body did not end cleanly. */
export async function readAll(
  reader: ReadableStreamDefaultReader<string>,
  text: string,
): Promise<{ text: string; error: unknown }> {
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text, error: undefined };
      text += value;
    }
  } catch (error) {
    return { text, error };
  }
}

/** Opens an SSE route of the demo and reads until two tick events arrived. */
export async function openTicking(
  port: number,
  path: string,
): Promise<{ reader: ReadableStreamDefaultReader<string>; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while ((text.match(/^event: tick$/gm) ?? []).length < 2) {
    const { value, done } = await reader.read();
    assert.equal(done, false, `ended before the shutdown: ${text}`);
    text += value;
  }
  return { reader, text };
}
