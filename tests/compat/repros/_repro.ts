// What the runtime repros share. Each repro is one file with two roles: run with `--server` it is
// a tiny raw Deno.serve / Bun.serve server (the runtime under test); run without, it is the driver
// (on the pinned Deno), which starts the server role on the binary given as its argument, talks to
// it over raw TCP, and prints a timeline and one `RESULT` line. Uses node: modules only, so that
// both roles load it on any runtime line.
//
//   node_modules/deno/deno run -A tests/compat/repros/<repro>.ts [<binary>]
//
// <binary> defaults to $GRACEFUL_DENO / $GRACEFUL_BUN (by the repro's runtime), else the pinned
// real binary in node_modules (tools/compat/install.ts prints the paths of the older ones).

import { Buffer } from "node:buffer";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** A runtime a repro's server role runs on. */
export type ReproRuntime = "deno" | "bun";

const _ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const _PINNED: Record<ReproRuntime, string> = {
  deno: `${_ROOT}node_modules/deno/deno`,
  bun: `${_ROOT}node_modules/bun/bin/bun.exe`,
};

/** Whether this process is a repro's server role. */
export function isServer(): boolean {
  return process.argv.includes("--server");
}

/** The binary the server role runs on: the driver's first argument, the env var, or the pinned one. */
export function binaryFor(runtime: ReproRuntime): string {
  const argument = process.argv.slice(2).find((arg) => !arg.startsWith("--"));
  const env = process.env[runtime === "deno" ? "GRACEFUL_DENO" : "GRACEFUL_BUN"];
  return argument ?? (env !== undefined && env !== "" ? env : _PINNED[runtime]);
}

/** `deno 2.5.7` / `bun 1.3.14`. */
export function versionOf(runtime: ReproRuntime, binary: string): string {
  const out = spawnSync(binary, ["--version"], { encoding: "utf8" }).stdout ?? "";
  return `${runtime} ${/(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "?"}`;
}

const _startedAt = performance.now();

/** Prints `message` with the driver's clock (ms since it started). */
export function log(message: string): void {
  console.log(`${(performance.now() - _startedAt).toFixed(0).padStart(6)} ms  ${message}`);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The server role, started by the driver. */
export interface ReproServer {
  readonly port: number;
  readonly child: ChildProcess;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Sends a signal with process.kill (Deno's child.kill misreports trapped signals). */
  signal(name: "SIGUSR2" | "SIGTERM" | "SIGKILL"): void;
  /** Resolves once the server printed a line containing `text`; false after `ms`. */
  waitFor(text: string, ms: number): Promise<boolean>;
  /** Every line the server printed so far. */
  lines(): readonly string[];
}

/**
 * Starts `script` (a repro file) with `--server` on `binary` and resolves once it printed
 * `listening <port>`. Every other line it prints goes to the timeline, prefixed with `server:`.
 */
export function startServer(
  runtime: ReproRuntime,
  binary: string,
  script: string,
  env: Record<string, string> = {},
): Promise<ReproServer> {
  const args = runtime === "deno"
    ? ["run", "--allow-all", script, "--server"]
    : [script, "--server"];
  const child = spawn(binary, args, {
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let pending = "";
  const onText = (text: string): void => {
    pending += text;
    const parts = pending.split("\n");
    pending = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (!line.startsWith("listening ")) log(`server: ${line}`);
      for (const check of [...waiters]) check();
    }
  };
  child.stdout!.setEncoding("utf8").on("data", onText);
  child.stderr!.setEncoding("utf8").on("data", onText);
  let exited = false;
  child.on("exit", (code, signal) => {
    exited = true;
    log(`server process exited (code ${code}, signal ${signal})`);
    for (const check of [...waiters]) check();
  });
  const waitFor = (text: string, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const finish = (found: boolean): void => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const check = (): void => {
        if (lines.some((line) => line.includes(text))) finish(true);
        else if (exited) finish(false);
      };
      const timer = setTimeout(() => finish(false), ms);
      waiters.add(check);
      check();
    });
  return waitFor("listening ", 15_000).then((found) => {
    if (!found) {
      child.kill("SIGKILL");
      throw new Error(`the server did not start:\n${lines.join("\n")}`);
    }
    const port = Number(/listening (\d+)/.exec(lines.find((l) => l.startsWith("listening "))!)![1]);
    return {
      port,
      child,
      alive: () => !exited,
      signal(name) {
        if (!exited) process.kill(child.pid!, name);
      },
      waitFor,
      lines: () => lines,
    };
  });
}

/** One raw TCP connection whose every byte, FIN and error is recorded. */
export class RawClient {
  readonly socket: net.Socket;
  received: Buffer = Buffer.alloc(0);
  /** Set when the server sent a FIN. */
  fin = false;
  /** The socket error code, if any (ECONNRESET...). */
  error: string | undefined;
  #name: string;

  private constructor(socket: net.Socket, name: string) {
    this.socket = socket;
    this.#name = name;
    socket.on("data", (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on("end", () => {
      this.fin = true;
      log(`${name}: FIN from the server`);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      this.error = error.code ?? error.message;
      log(`${name}: ${this.error}`);
    });
  }

  /** Connects to 127.0.0.1:`port`. */
  static connect(port: number, name: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1" });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawClient(socket, name));
      });
    });
  }

  /** Writes `data` unless the socket is gone. */
  write(data: string | Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** The received bytes as latin1 text. */
  get text(): string {
    return this.received.toString("latin1");
  }

  /** How many HTTP/1.1 status lines arrived. */
  get responses(): number {
    return this.text.split(/HTTP\/1\.1 \d{3} /).length - 1;
  }

  /** Whether the socket is still open. */
  get open(): boolean {
    return !this.socket.destroyed && !this.fin;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A request head for `path`. */
export function get(path: string, headers = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;
}
