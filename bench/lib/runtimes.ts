// The two runtimes under test: where their binaries are and how to run a script with each.

import { realpathSync } from "node:fs";
import { join } from "node:path";

/** A runtime the benchmark drives. */
export type RuntimeName = "deno" | "bun";

/** How to run a script under one runtime. */
export interface RuntimeCommand {
  name: RuntimeName;
  /** Absolute path of the real binary (not a launcher), so the child PID is the runtime's. */
  bin: string;
  version: string;
  /** Arguments after `bin` to run `script` with the permissions a server needs. */
  serverArgs(script: string): string[];
  /** Arguments after `bin` to run `script` with no flags at all (the start/exit anchor). */
  bareArgs(script: string): string[];
}

function _binary(root: string, name: string, fallback: string): string {
  try {
    return realpathSync(join(root, "node_modules", ".bin", name));
  } catch {
    return fallback;
  }
}

async function _version(bin: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(bin, { args, stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")[0]!.trim();
}

/** Finds both runtimes, preferring the project's node_modules copies. */
export async function runtimes(root: string): Promise<Record<RuntimeName, RuntimeCommand>> {
  const deno = _binary(root, "deno", Deno.execPath());
  const bun = _binary(root, "bun", "bun");
  return {
    deno: {
      name: "deno",
      bin: deno,
      version: (await _version(deno, ["--version"])).replace(/^deno\s+(\S+).*$/, "$1"),
      // The same flags as `npm run demo`.
      serverArgs: (script) => ["run", "--allow-net", "--allow-env", "--allow-read", script],
      bareArgs: (script) => ["run", script],
    },
    bun: {
      name: "bun",
      bin: bun,
      version: await _version(bun, ["--version"]),
      serverArgs: (script) => [script],
      bareArgs: (script) => [script],
    },
  };
}
