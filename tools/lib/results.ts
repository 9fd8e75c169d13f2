// Writing results files: never seen half written, and formatted as the repository's
// `deno fmt --check` wants them (it pads Markdown table columns).

import { runtimeBinary } from "./runtimes.ts";

/** Writes `text` to `path` through a temporary file and a rename. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

/**
 * Formats `paths` with the project's Deno (`deno fmt --quiet`), run in `root`.
 * @throws {Error} when `deno fmt` fails.
 */
export async function formatResults(root: string, paths: readonly string[]): Promise<void> {
  const out = await new Deno.Command(runtimeBinary(root, "deno"), {
    args: ["fmt", "--quiet", ...paths],
    cwd: root,
  }).output();
  if (!out.success) {
    throw new Error(`deno fmt ${paths.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}
