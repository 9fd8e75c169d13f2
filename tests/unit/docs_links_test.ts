// Every relative link in the markdown that JSR publishes resolves to a file JSR publishes (the
// package page shows README.md and docs/; a link into tests/ or bench/ would break there).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { publish } = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as {
  publish: { include: string[]; exclude: string[] };
};

/** Whether deno.json's publish.include/exclude take in this path (relative to the root). */
function published(path: string): boolean {
  const within = (entry: string) =>
    entry.endsWith("/") ? path.startsWith(entry) : path === entry || path.startsWith(`${entry}/`);
  return publish.include.some(within) && !publish.exclude.some(within);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

const markdown = [
  "README.md",
  ...readdirSync(join(ROOT, "docs")).map((name) => `docs/${name}`),
].filter((path) => path.endsWith(".md") && published(path));

describe("links in the published markdown", () => {
  it("covers the README and the guides", () => {
    assert.ok(markdown.includes("README.md"));
    assert.ok(markdown.length > 5);
  });

  for (const file of markdown) {
    it(`${file}: every relative link resolves to a published file (and heading)`, () => {
      const text = readFileSync(join(ROOT, file), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
      const broken: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // absolute (https:, mailto:)
        const [path = "", hash] = target!.split("#");
        const resolved = path === ""
          ? file
          : relative(ROOT, normalize(join(ROOT, dirname(file), path))).replaceAll("\\", "/");
        if (!existsSync(join(ROOT, resolved)) || !published(resolved)) {
          broken.push(`${target} (${resolved} is not a published file)`);
          continue;
        }
        if (hash !== undefined && resolved.endsWith(".md")) {
          const headings = readFileSync(join(ROOT, resolved), "utf8").match(/^#+ .*$/gm) ?? [];
          if (!headings.some((h) => anchor(h.replace(/^#+ /, "")) === hash)) {
            broken.push(`${target} (no heading #${hash} in ${resolved})`);
          }
        }
      }
      assert.deepEqual(broken, []);
    });
  }
});
