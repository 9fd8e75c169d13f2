// The code in README.md and docs/ works as pasted: every TypeScript block type-checks against the
// package (`deno check --doc-only`, where "@graceful/serve" is this repository through deno.json's
// name and exports), and the README's quick start runs with each command the README gives for it,
// answers, and exits 0 at SIGTERM with its report on the log.
//
//   node_modules/.bin/deno test --allow-all tests/integration/docs_code_test.ts

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { BINARIES, type Exit, ROOT, RUNTIMES, within } from "./_harness.ts";
import { nodeBinaries, nodeLeftOut } from "./_node.ts";

const FILES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs")).filter((name) => name.endsWith(".md")).map((name) =>
    `docs/${name}`
  ),
];

/** The fenced blocks of a markdown file: language and code. */
function blocks(file: string): { lang: string; code: string }[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1]!,
    code: m[2]!,
  }));
}

/** The README's quick start: the first ts block and the sh block after it. */
function quickStart(): { code: string; commands: string[][] } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## Quick start\n"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const sh = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code && sh, "README.md has a Quick start with a ts block and an sh block");
  const commands = sh.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean)
    .map((line) => line.split(/\s+/));
  return { code, commands };
}

const tmp = join(ROOT, ".tmp");
mkdirSync(tmp, { recursive: true });
const dir = mkdtempSync(join(tmp, "quick-start-"));

describe("the code in README.md and docs/", () => {
  it("has TypeScript blocks in the README and in every guide that shows code", () => {
    assert.ok(blocks("README.md").some((block) => block.lang === "ts"));
    for (const file of FILES) {
      const langs = blocks(file).map((block) => block.lang);
      assert.deepEqual(
        langs.filter((lang) => !["ts", "sh", "yaml", "text"].includes(lang)),
        [],
        `${file}: code blocks are ts (checked), sh, yaml or text`,
      );
    }
  });

  it("type-checks every TypeScript block against the package", { timeout: 120_000 }, () => {
    // The type-check is the toolchain's (the runner's pinned Deno), whatever release the servers
    // run on: `deno check` of an older line knows older types.
    const result = spawnSync(process.execPath, ["check", "--doc-only", ...FILES], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    assert.equal(result.status, 0, result.stderr);
    const checked = (result.stderr.match(/^Check .*\.md#\d+-\d+\.ts$/gm) ?? []).length;
    const expected = FILES.flatMap(blocks).filter((block) => block.lang === "ts").length;
    assert.equal(checked, expected, `every ts block checked:\n${result.stderr}`);
  });
});

describe("the README's quick start", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { code, commands } = quickStart();
  // Only the package's name and the port change: "@graceful/serve" is this repository, and the
  // port is any free one.
  const source = code.replace('"@graceful/serve"', JSON.stringify(pathToFileURL(`${ROOT}mod.ts`)))
    .replace("port: 8000", "port: 0");
  assert.notEqual(source, code);
  writeFileSync(join(dir, "server.ts"), source);

  it("gives a command for Deno, Bun and Node", () => {
    assert.deepEqual(commands.map((argv) => argv[0]), ["deno", "bun", "node"]);
    for (const argv of commands) assert.equal(argv.at(-1), "server.ts");
  });

  for (const argv of commands) {
    const [name, ...args] = argv as [string, ...string[]];
    // GRACEFUL_ONLY names Deno and Bun lines (npm test's second pass, test:compat): Node sits out.
    const binaries = name === "node"
      ? (typeof nodeBinaries() === "string" || nodeLeftOut() !== false
        ? []
        : (nodeBinaries() as { path: string }[]))
        .map((node) => node.path)
      : RUNTIMES.includes(name as "deno" | "bun") &&
          existsSync(BINARIES[name as "deno" | "bun"])
      ? [BINARIES[name as "deno" | "bun"]]
      : [];
    if (binaries.length === 0) {
      console.error(
        `SKIPPED: the quick start on ${name}: no ${name} binary, or GRACEFUL_ONLY leaves it out`,
      );
      it(`runs with \`${argv.join(" ")}\``, {
        skip: `SKIPPED LOUDLY: no ${name} binary, or GRACEFUL_ONLY`,
      }, () => {});
      continue;
    }
    for (const binary of binaries) {
      it(`runs with \`${argv.join(" ")}\` (${binary})`, { timeout: 30_000 }, async () => {
        const child = spawn(binary, args, {
          cwd: dir,
          env: { ...process.env, NO_COLOR: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout!.setEncoding("utf8").on("data", (text: string) => (output += text));
        child.stderr!.setEncoding("utf8").on("data", (text: string) => (output += text));
        let exit: Exit | undefined;
        const exited = new Promise<Exit>((resolve) =>
          child.on("close", (code, signal) => resolve(exit = { code, signal, at: 0 }))
        );
        try {
          const port = await within(
            (async () => {
              for (;;) {
                const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
                if (match) return Number(match[1]);
                if (exit) throw new Error(`exited before listening:\n${output}`);
                await new Promise((resolve) => setTimeout(resolve, 20));
              }
            })(),
            15_000,
            "the quick start to listen",
          );
          const response = await fetch(`http://127.0.0.1:${port}/`);
          assert.equal(await response.text(), "hello");
          process.kill(child.pid!, "SIGTERM");
          const { code: exitCode, signal } = await within(exited, 15_000, "the exit");
          assert.deepEqual({ exitCode, signal }, { exitCode: 0, signal: null }, output);
          assert.match(output, /closing resources/);
          assert.match(output, /\[graceful\] shutdown complete in \d+ ms: \d+ completed, 0 cut/);
        } finally {
          if (!exit) child.kill("SIGKILL");
        }
      });
    }
  }
});
