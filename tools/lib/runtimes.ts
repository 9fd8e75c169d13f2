// The two runtimes under test: where their binaries are and how to run a script with each.
// GRACEFUL_DENO / GRACEFUL_BUN name another binary (e.g. an older release line from
// tools/compat); otherwise the project's node_modules copies run.

import { realpathSync } from "node:fs";
import { join } from "node:path";
import { versionLine } from "./commands.ts";

/** A runtime the servers under test run on. */
export type RuntimeName = "deno" | "bun";

/** How to run a script under one runtime. */
export interface RuntimeCommand {
  name: RuntimeName;
  /** Absolute path of the real binary (see {@linkcode runtimeBinary}). */
  bin: string;
  /** `2.9.5`, `1.4.5`. */
  version: string;
  /**
   * Arguments after `bin` to run `script` with the permissions a server needs; `flags` (runtime
   * flags such as `--v8-flags=--expose-gc`) go right before the script.
   */
  serverArgs(script: string, flags?: readonly string[]): string[];
  /** Arguments after `bin` to run `script` with no flags at all (the start/exit anchor). */
  bareArgs(script: string): string[];
}

const _ENV: Record<RuntimeName, string> = { deno: "GRACEFUL_DENO", bun: "GRACEFUL_BUN" };

/** Where each runtime's npm package keeps its real binary, from the repository root. */
const _BUNDLED: Record<RuntimeName, string> = {
  deno: join("node_modules", "deno", "deno"),
  bun: join("node_modules", "bun", "bin", "bun.exe"),
};

/**
 * The real binary of `name`: $GRACEFUL_DENO / $GRACEFUL_BUN when set, else the npm package's
 * binary. Never `node_modules/.bin/…`: that may be a Node launcher, which does not forward
 * signals, and the child's PID must be the runtime's own.
 * @throws {Error} when the binary does not exist.
 */
export function runtimeBinary(root: string, name: RuntimeName): string {
  const configured = Deno.env.get(_ENV[name]);
  const path = configured ? configured : join(root, _BUNDLED[name]);
  try {
    return realpathSync(path);
  } catch {
    throw new Error(
      configured
        ? `${_ENV[name]} names ${JSON.stringify(configured)}, which does not exist`
        : `${path} is missing: run \`npm run setup\`, or set ${_ENV[name]} to a ${name} binary`,
    );
  }
}

/** Options of {@linkcode serverArgs}. */
export interface ServerArgsOptions {
  /**
   * Runtime flags, right before the script.
   * @default []
   */
  flags?: readonly string[];
}

/** Arguments after the binary of `name` to run a server `script` (see `RuntimeCommand`). */
export function serverArgs(
  name: RuntimeName,
  script: string,
  options: ServerArgsOptions = {},
): string[] {
  const flags = options.flags ?? [];
  // Deno: the same permissions as `npm run demo`.
  return name === "deno"
    ? ["run", "--allow-net", "--allow-env", "--allow-read", ...flags, script]
    : [...flags, script];
}

/** How to run scripts under the binary `bin` of `name`; asks the binary for its version. */
export async function runtimeCommand(name: RuntimeName, bin: string): Promise<RuntimeCommand> {
  // `deno 2.9.5 (stable, release, …)`; Bun prints the bare version.
  const version = (await versionLine(bin, ["--version"])).replace(/^deno\s+(\S+).*$/, "$1");
  return {
    name,
    bin,
    version,
    serverArgs: (script, flags) => serverArgs(name, script, { flags }),
    bareArgs: (script) => name === "deno" ? ["run", script] : [script],
  };
}

/** Finds both runtimes and asks each for its version. */
export async function runtimes(root: string): Promise<Record<RuntimeName, RuntimeCommand>> {
  const command = (name: RuntimeName) => runtimeCommand(name, runtimeBinary(root, name));
  return { deno: await command("deno"), bun: await command("bun") };
}
