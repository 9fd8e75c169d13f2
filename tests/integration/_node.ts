// The Node binaries the Node integration tests run examples/demo.ts on, and a demo started on one
// of them. The runner stays `deno test`; the harness's raw clients and curl are shared.
//
// GRACEFUL_NODE: comma-separated paths of node binaries (.ci/run sets Node 22 and 24). Unset: the
// cached installs `${GRACEFUL_RUNTIMES:-$HOME/.cache/graceful-serve/runtimes}/node-<major>/`
// (npm install --prefix <that folder> node@<major>), else `node` on PATH when it is recent enough.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type Exit, ROOT, type SignalName, within } from "./_harness.ts";

/** The oldest Node that runs the TypeScript sources by type stripping without a flag. */
export const NODE_MINIMUM: readonly [number, number] = [22, 18];

/** One Node binary and its version. */
export interface NodeBinary {
  readonly path: string;
  readonly version: string;
}

/** What `<path> --version` reports (`22.18.0`), or undefined when it does not run. */
function _nodeVersion(path: string): string | undefined {
  const result = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 30_000 });
  return result.status === 0 ? /v(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] : undefined;
}

function _recentEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > NODE_MINIMUM[0] || (major === NODE_MINIMUM[0] && minor >= NODE_MINIMUM[1]);
}

function _cacheRoot(): string {
  const configured = process.env.GRACEFUL_RUNTIMES;
  return configured !== undefined && configured !== ""
    ? configured
    : join(homedir(), ".cache", "graceful-serve", "runtimes");
}

/**
 * The Node binaries to test on, or why there is none. A binary named in GRACEFUL_NODE that does
 * not run or is too old is an error, never a skip.
 */
export function nodeBinaries(): NodeBinary[] | string {
  const configured = process.env.GRACEFUL_NODE;
  if (configured !== undefined && configured !== "") {
    return configured.split(",").map((path) => {
      const version = _nodeVersion(path.trim());
      if (version === undefined || !_recentEnough(version)) {
        throw new TypeError(
          `GRACEFUL_NODE must list node binaries >= ${NODE_MINIMUM.join(".")}, received ${path} ` +
            `(${version ?? "does not run"})`,
        );
      }
      return { path: path.trim(), version };
    });
  }
  const found: NodeBinary[] = [];
  for (const major of [22, 24]) {
    const path = join(_cacheRoot(), `node-${major}`, "node_modules", "node", "bin", "node");
    const version = existsSync(path) ? _nodeVersion(path) : undefined;
    if (version !== undefined && _recentEnough(version)) found.push({ path, version });
  }
  if (found.length > 0) return found;
  const version = _nodeVersion("node");
  if (version !== undefined && _recentEnough(version)) return [{ path: "node", version }];
  return `no Node >= ${NODE_MINIMUM.join(".")} found (node on PATH: ${version ?? "none"}); ` +
    `install one with \`npm install --prefix ${join(_cacheRoot(), "node-22")} node@22\` or set ` +
    `GRACEFUL_NODE`;
}

/** How long the demo may take to print its `listening on` line. */
const _START_TIMEOUT_MS = 10_000;

/** A demo running on Node. */
export interface NodeDemo {
  readonly runtime: string;
  readonly port: number;
  /** Sends `signal` to the process; returns `performance.now()` at the send. */
  kill(signal: SignalName): number;
  stderr(): string;
  waitForStderr(text: string, timeoutMs?: number): Promise<void>;
  waitForExit(timeoutMs: number): Promise<Exit>;
  readonly hasExited: boolean;
}

const _children = new Set<ChildProcess>();

function _signal(child: ChildProcess, signal: SignalName): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch (error) {
    if ((error as { code?: string }).code !== "ESRCH") throw error;
  }
}

/** SIGKILLs every Node demo still running (afterEach). */
export function cleanupNode(): void {
  for (const child of _children) _signal(child, "SIGKILL");
  _children.clear();
}

/** Starts examples/demo.ts on `node` with PORT=0 HOSTNAME=127.0.0.1 plus `env`. */
export function startNodeDemo(
  node: NodeBinary,
  env: Record<string, string> = {},
): Promise<NodeDemo> {
  const child = spawn(node.path, ["examples/demo.ts"], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", PORT: "0", HOSTNAME: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  _children.add(child);
  const runtime = `node ${node.version}`;
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => {
    stderr += text;
    for (const check of [...waiters]) check();
  });
  let exitAt = 0;
  child.on("exit", () => (exitAt = performance.now()));
  const exited = new Promise<Exit>((resolve) => {
    child.on("close", (code, signal) => {
      _children.delete(child);
      for (const check of [...waiters]) check();
      resolve({ code, signal, at: exitAt || performance.now() });
    });
  });
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      _signal(child, "SIGKILL");
      reject(new Error(`${runtime} demo did not listen in ${_START_TIMEOUT_MS} ms: ${stderr}`));
    }, _START_TIMEOUT_MS);
    child.stdout!.on("data", (text: string) => {
      stdout += text;
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on("error", reject);
    exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`${runtime} demo exited before listening (${exit.code}): ${stderr}`));
    });
  });
  return listening.then((port) => ({
    runtime,
    port,
    kill(signal: SignalName): number {
      const at = performance.now();
      _signal(child, signal);
      return at;
    },
    stderr: () => stderr,
    waitForStderr(text: string, timeoutMs = 5_000): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = (): void => {
          if (stderr.includes(text)) finish();
          else if (child.exitCode !== null || child.signalCode !== null) {
            finish(new Error(`${runtime} demo exited without writing ${text}:\n${stderr}`));
          }
        };
        const timer = setTimeout(
          () => finish(new Error(`no ${JSON.stringify(text)} after ${timeoutMs} ms:\n${stderr}`)),
          timeoutMs,
        );
        waiters.add(check);
        check();
      });
    },
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
