// The servers that take part in a rolling restart: the library's demo or a baseline, on Deno or
// Bun, started on a given port and stopped with SIGTERM.

import type { Child, Exit } from "../../../tools/lib/child.ts";
import type { Children, Stopped } from "../../../tools/lib/children.ts";
import { runtimeBinary, type RuntimeName, serverArgs } from "../../../tools/lib/runtimes.ts";

/**
 * What answers the requests:
 * - `library`: examples/demo.ts (the library's `serve()`), with a given `DRAIN_DELAY_MS`;
 * - `raw-exit`: tests/rollout/servers/raw.ts with no signal listener, so SIGTERM kills it;
 * - `raw-shutdown`: the same with SIGTERM -> `shutdown()` / `stop()`, no delay, no
 *   `Connection: close`.
 */
export type ServerKind = "library" | "raw-exit" | "raw-shutdown";

/** How to start one instance. */
export interface InstanceSpec {
  runtime: RuntimeName;
  server: ServerKind;
  /** `DRAIN_DELAY_MS` of the library (ignored by the baselines). */
  drainDelayMs: number | null;
  /** SO_REUSEPORT (Deno gets --unstable-net). */
  reusePort: boolean;
}

/** The library's deadline in every row: far above any drain here, so nothing is ever cut. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/** How long an instance may take to print its `listening on` line. */
const _START_TIMEOUT_MS = 15_000;

/** A running instance. */
export interface Instance {
  readonly label: string;
  readonly port: number;
  readonly child: Child;
  /** `Date.now()` when it printed `listening on`. */
  readonly listeningAt: number;
}

function _args(
  spec: InstanceSpec,
): { script: string; args: string[]; env: Record<string, string> } {
  const script = spec.server === "library" ? "examples/demo.ts" : "tests/rollout/servers/raw.ts";
  const env: Record<string, string> = spec.server === "library"
    ? {
      // null: unset, the library's default lame duck.
      ...(spec.drainDelayMs === null ? {} : { DRAIN_DELAY_MS: String(spec.drainDelayMs) }),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    }
    : { ON_SIGTERM: spec.server === "raw-exit" ? "exit" : "shutdown" };
  if (spec.reusePort) env.REUSE_PORT = "1";
  const flags = spec.runtime === "deno" && spec.reusePort ? ["--unstable-net"] : [];
  const args = serverArgs(spec.runtime, script, { flags });
  return { script, args, env };
}

/** The command line of an instance, for the results. */
export function commandLine(spec: InstanceSpec): string {
  const { args, env } = _args(spec);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ");
  return `${vars} PORT=<port> HOSTNAME=127.0.0.1 node_modules/.bin/${spec.runtime} ${
    args.join(" ")
  }`;
}

/**
 * Starts one instance on `port` (0 = a free one). When the port is still taken (a previous
 * instance's sockets), it retries for up to 5 s.
 * @throws {Error} when the instance cannot start.
 */
export async function startInstance(
  children: Children,
  root: string,
  spec: InstanceSpec,
  port: number,
  label: string,
): Promise<Instance> {
  const { args, env } = _args(spec);
  const bin = runtimeBinary(root, spec.runtime);
  const deadline = Date.now() + 5_000;
  for (let attempt = 1;; attempt++) {
    const child = children.spawn(bin, args, {
      name: label,
      cwd: root,
      env: { ...env, NO_COLOR: "1", PORT: String(port), HOSTNAME: "127.0.0.1" },
    });
    try {
      const match = await child.waitFor(
        /listening on http:\/\/127\.0\.0\.1:(\d+)/,
        _START_TIMEOUT_MS,
      );
      return { label, port: Number(match[1]), child, listeningAt: Date.now() };
    } catch (error) {
      await children.stop(child, { signal: "SIGKILL", graceMs: 5_000 });
      const inUse = /AddrInUse|EADDRINUSE|address already in use/i.test(child.stderr);
      if (!inUse || Date.now() > deadline) {
        throw new Error(`${label}: could not start (attempt ${attempt}): ${error}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Sends SIGTERM and waits for the exit (SIGKILL after the library's deadline plus 5 s), then
 * (bounded) for the last of its output.
 */
export async function stopInstance(children: Children, instance: Instance): Promise<Stopped> {
  const stopped = await children.stop(instance.child, { graceMs: SHUTDOWN_TIMEOUT_MS + 5_000 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    instance.child.drained,
    new Promise<void>((resolve) => timer = setTimeout(resolve, 1_000)),
  ]);
  clearTimeout(timer);
  return stopped;
}

/** The exit an instance should have after SIGTERM, and whether `exit` matches it. */
export function expectedExit(server: ServerKind, exit: Exit): { ok: boolean; expected: string } {
  if (server === "raw-exit") {
    return { ok: exit.signal === "SIGTERM", expected: "killed by SIGTERM" };
  }
  return { ok: exit.code === 0 && exit.signal === null, expected: "exit code 0" };
}
