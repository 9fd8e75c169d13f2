// What a benchmark results file records about its run: the machine and the library revision.

import { cpus } from "node:os";

/** What every results file records about its run, above its tables. */
export interface RunHeader {
  date: string;
  command: string;
  mode: "quick" | "full";
  versions: Record<string, string>;
  machine: { nproc: number; cpu: string; kernel: string };
}

/** The CPU model, for the results header. */
export function cpuModel(): string {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown CPU";
  } catch {
    return cpus()[0]?.model ?? "unknown CPU";
  }
}

/** The library revision measured: HEAD, plus whether mod.ts or src/ differ from it. */
export async function libraryRevision(root: string): Promise<string> {
  const git = async (args: string[]): Promise<string> => {
    const out = await new Deno.Command("git", { args, cwd: root, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : "";
  };
  try {
    const head = await git(["rev-parse", "--short", "HEAD"]);
    if (!head) return "unknown";
    const dirty = await git(["status", "--porcelain", "--", "mod.ts", "src"]);
    return dirty ? `${head} (mod.ts/src modified)` : head;
  } catch {
    return "unknown";
  }
}
