// The Node binaries the Node integration tests run examples/demo.ts on, and a demo started on one
// of them. The runner stays `deno test`; the harness's raw clients and curl are shared.
//
// GRACEFUL_NODE: comma-separated paths of node binaries (.ci/run sets Node 22 and 24; test:compat
// one at a time, with GRACEFUL_ONLY=node). Unset: the cached installs
// `${GRACEFUL_RUNTIMES:-$HOME/.cache/graceful-serve/runtimes}/node-<major>/` (tools/compat/install.ts
// puts them there), else `node` on PATH when it is recent enough.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { RuntimeCommand } from "../../tools/lib/runtimes.ts";
import { cleanup, type Demo, startProcess } from "./_harness.ts";

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

/**
 * Why GRACEFUL_ONLY leaves the Node tests out, or `false` when they run: it is unset, or it lists
 * `node` (npm run test:compat runs one line at a time: `deno`, `bun` or `node`).
 */
export function nodeLeftOut(): string | false {
  const only = process.env.GRACEFUL_ONLY;
  if (only === undefined || only === "") return false;
  return only.split(",").some((name) => name.trim() === "node")
    ? false
    : `GRACEFUL_ONLY=${only} leaves Node out`;
}

/** A demo running on Node. */
export type NodeDemo = Demo<string>;

/** SIGKILLs every demo still running (afterEach). */
export const cleanupNode: () => void = cleanup;

/** Starts examples/demo.ts on `node` with PORT=0 HOSTNAME=127.0.0.1 plus `env`. */
export function startNodeDemo(
  node: NodeBinary,
  env: Record<string, string> = {},
): Promise<NodeDemo> {
  return startProcess(`node ${node.version}`, [node.path, "examples/demo.ts"], env);
}

/**
 * Node 24 (else the newest found) as a runner of bench fixtures (bench:corun), or why there is
 * none.
 */
export function nodeCommand(): RuntimeCommand | string {
  const found = nodeBinaries();
  if (typeof found === "string") return found;
  const node = found.find((binary) => binary.version.startsWith("24.")) ?? found.at(-1)!;
  return {
    // The name only labels results; tools/lib/runtimes.ts finds Deno and Bun alone.
    name: "node" as RuntimeCommand["name"],
    bin: node.path,
    version: node.version,
    serverArgs: (script, flags = []) => [...flags, script],
    bareArgs: (script) => [script],
  };
}
