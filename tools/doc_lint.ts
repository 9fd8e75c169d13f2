// `deno doc --lint` on every entry point of deno.json's "exports", with one short allow-list.
//
//   deno run --allow-read --allow-run tools/doc_lint.ts
//
// Why an allow-list: `deno doc --lint` reports a public function whose signature uses a type from
// an npm package as referencing a "private type" (Deno 2.9.5, denoland/deno#27364), although the
// type is public in that package. The only such references are Hono's `MiddlewareHandler` and
// `Context` in src/hono.ts, which a Hono middleware cannot avoid. Every other finding fails, and
// so does an allow-list entry that no longer matches anything (delete it then).

import denoJson from "../deno.json" with { type: "json" };

/** `public symbol -> private type` pairs that are Hono's own public types. */
const ALLOWED: readonly string[] = [
  "shutdownSignal -> MiddlewareHandler",
  "requestSignal -> Context",
  "health -> MiddlewareHandler",
];

const entryPoints = Object.values(denoJson.exports);
const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
  args: ["doc", "--lint", ...entryPoints],
  env: { NO_COLOR: "1" },
}).output();
const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);

// One finding per `error[...]` line; private-type-ref ones name both types.
const findings = output.split("\n").filter((line) => /^error\[[\w-]+\]/.test(line));
const unused = new Set(ALLOWED);
const failures: string[] = [];
for (const line of findings) {
  const ref = /^error\[private-type-ref\]: public type '([^']+)' references private type '([^']+)'/
    .exec(line);
  const pair = ref ? `${ref[1]} -> ${ref[2]}` : undefined;
  if (pair !== undefined && ALLOWED.includes(pair)) unused.delete(pair);
  else failures.push(line);
}
// A failure that printed no finding line (a crash, a missing file) must not pass either.
const crashed = findings.length === 0 && /^error:/m.test(output);

if (failures.length > 0 || crashed) {
  console.error(output);
  console.error(
    `doc lint: ${failures.length} finding(s) outside the allow-list in tools/doc_lint.ts`,
  );
  Deno.exit(1);
}
if (unused.size > 0) {
  console.error(`doc lint: allow-list entries that match nothing, delete them: ${[...unused]}`);
  Deno.exit(1);
}
console.error(
  `doc lint: ${
    entryPoints.join(", ")
  }: ok (${findings.length} allowed reference(s) to Hono's types)`,
);
