// The command-line tools a run needs (wrk, nginx, taskset): whether they are there, and the
// version line a results file records.

/**
 * The first of `candidates` that runs with `args`, or undefined when none does.
 * @param args what each candidate is run with to see whether it is there
 */
export async function findTool(
  candidates: readonly string[],
  args: readonly string[] = ["-v"],
): Promise<string | undefined> {
  for (const bin of candidates) {
    try {
      await new Deno.Command(bin, { args: [...args], stdout: "null", stderr: "null" }).output();
      return bin;
    } catch {
      // Not there: try the next one.
    }
  }
  return undefined;
}

/**
 * Fails with an install hint when `name` does not run with `args`.
 * @throws {Error} naming `where`, the tool and the apt package that provides it.
 */
export async function requireTool(
  where: string,
  name: string,
  options: { args: readonly string[]; aptPackage?: string },
): Promise<void> {
  if (await findTool([name], options.args) === undefined) {
    throw new Error(
      `${where}: \`${name}\` is missing (apt-get install -y ${options.aptPackage ?? name})`,
    );
  }
}

/**
 * The first line `bin args…` prints (stdout, or stderr when stdout is empty), without wrk's
 * copyright notice, e.g. `wrk debian/4.1.0-3 [epoll]` or `nginx version: nginx/1.22.1`; "unknown" when it fails.
 */
export async function versionLine(bin: string, args: readonly string[]): Promise<string> {
  try {
    const out = await new Deno.Command(bin, { args: [...args] }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.split("\n")[0]!.replace(/\s+Copyright.*$/, "").trim();
  } catch {
    return "unknown";
  }
}
