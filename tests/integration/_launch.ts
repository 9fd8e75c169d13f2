// Child processes for the integration tests that drive servers and client tools directly (HTTP/2,
// protocols, Node): launched from the repository root, their output waited on, and every one still
// running reaped after each test.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { assertExit, type Exit, ROOT, sleep, within } from "./_harness.ts";

const _children = new Set<ChildProcess>();

/**
 * Signals a child with process.kill(): Deno 2.9.5's child.kill() misreports how a child that
 * trapped the signal exited (see _harness.ts).
 */
export function _signal(child: ChildProcess, signal: "SIGTERM" | "SIGKILL"): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** SIGKILLs every launched child still running. */
export function reapLaunched(): void {
  for (const child of _children) _signal(child, "SIGKILL");
  _children.clear();
}

/** Text a process writes, with waiters that resolve once it contains something. */
export class Output {
  #text = "";
  #ended = false;
  #waiters = new Set<() => void>();

  get text(): string {
    return this.#text;
  }

  append(chunk: string): void {
    this.#text += chunk;
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Resolves once the text matches `pattern`; rejects when it ended without, or on timeout. */
  waitFor(pattern: string | RegExp, timeoutMs: number, what: string): Promise<void> {
    const matches = (): boolean =>
      typeof pattern === "string" ? this.#text.includes(pattern) : pattern.test(this.#text);
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        if (matches()) finish();
        else if (this.#ended) {
          finish(new Error(`${what}: ended without ${pattern}:\n${this.#text}`));
        }
      };
      const timer = setTimeout(() => {
        finish(new Error(`${what}: no ${pattern} after ${timeoutMs} ms:\n${this.#text}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  #notify(): void {
    for (const check of [...this.#waiters]) check();
  }
}

/** A running child process. */
export interface Running {
  readonly child: ChildProcess;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Settles once the process exited and its output was read to the end. */
  readonly exited: Promise<Exit>;
}

export function launch(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Running {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  _children.add(child);
  const stdout = new Output();
  const stderr = new Output();
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (text: string) => stdout.append(text));
  child.stderr!.on("data", (text: string) => stderr.append(text));
  let exitAt = 0;
  let code: number | null = null;
  let signal: string | null = null;
  child.on("exit", (exitCode, exitSignal) => {
    exitAt = performance.now();
    code = exitCode;
    signal = exitSignal;
  });
  const exited = new Promise<Exit>((resolve) => {
    const done = (): void => {
      _children.delete(child);
      stdout.end();
      stderr.end();
      resolve({ code, signal, at: exitAt || performance.now() });
    };
    child.on("close", done);
    child.on("error", (error) => {
      stderr.append(String(error));
      done();
    });
  });
  return { child, stdout, stderr, exited };
}

/** What a client tool printed. */
export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client tool; `done` resolves with what it printed. */
export function runTool(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): { readonly stdout: Output; readonly done: Promise<ToolResult> } {
  const running = launch(command, args, env);
  return {
    stdout: running.stdout,
    done: running.exited.then((exit) => ({
      code: exit.code,
      stdout: running.stdout.text,
      stderr: running.stderr.text,
    })),
  };
}

/** A server as `h2loadAcrossSigterm` drives it (the demo on Node, a server of protocols_test). */
export interface H2Server {
  readonly runtime: string;
  readonly port: number;
  /** Sends `signal`; returns `performance.now()` at the send. */
  kill(signal: "SIGTERM"): number;
  stderr(): string;
  waitForExit(timeoutMs: number): Promise<Exit>;
}

/**
 * h2load sends 25 parallel GET /slow?ms=1500 on one h2 connection; SIGTERM comes 500 ms later.
 * Asserts that every stream finished whole with a 2xx, that the server counted all 25 in flight
 * and completed, and that it exited 0 within 5 s.
 */
export async function h2loadAcrossSigterm(server: H2Server): Promise<void> {
  const load = runTool("h2load", [
    "-n25",
    "-c1",
    "-m25",
    `https://127.0.0.1:${server.port}/slow?ms=1500`,
  ]);
  await load.stdout.waitFor("Application protocol: h2", 5_000, "h2load negotiating h2");
  await sleep(500);
  const signalledAt = server.kill("SIGTERM");
  const result = await within(load.done, 10_000, "h2load");
  const exit = await server.waitForExit(5_000);
  assert.match(
    result.stdout,
    /requests: 25 total, 25 started, 25 done, 25 succeeded, 0 failed, 0 errored, 0 timeout/,
    result.stdout,
  );
  assert.match(result.stdout, /status codes: 25 2xx, 0 3xx, 0 4xx, 0 5xx/);
  // Every body whole: "slept 1500 ms" is 13 bytes.
  assert.match(result.stdout, /traffic: .* 325B \(325\) data/, result.stdout);
  assertExit(exit, 0, server);
  assert.match(server.stderr(), /shutdown started \(SIGTERM received\): 25 in flight/);
  assert.match(server.stderr(), /25 completed, 0 cut/);
  assert.ok(exit.at - signalledAt < 5_000, `exited ${exit.at - signalledAt} ms after SIGTERM`);
}
