// tools/figures.ts: the markers are found (and malformed ones refused), a table goes between its
// markers and nowhere else, the summary table says which version each row measured, and a results
// file whose format changed fails with its name. The check itself (`npm run figures -- --check`)
// runs in `npm run check` against the committed docs.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { blocks, renderAll, SOURCES, splice, SUMMARY, summaryTable } from "../../tools/figures.ts";
import { corun } from "../../tools/figures/corun.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const DOC = [
  "# Title",
  "",
  "Prose before.",
  "",
  "<!-- figures:a -->",
  "old table",
  "<!-- /figures:a -->",
  "",
  "Prose between.",
  "",
  "<!-- figures:b -->",
  "<!-- /figures:b -->",
  "Prose after.",
].join("\n");

describe("tools/figures.ts", () => {
  it("finds the marked blocks in order", () => {
    assert.deepEqual(blocks(DOC, "doc.md").map((b) => [b.name, b.body]), [
      ["a", "\nold table\n"],
      ["b", "\n"],
    ]);
  });

  it("refuses a start without its end, an end without its start, and nesting", () => {
    assert.throws(() => blocks("<!-- figures:a -->\n", "x.md"), /x\.md: .*figures:a.* no end/);
    assert.throws(() => blocks("<!-- /figures:a -->\n", "x.md"), /without its start/);
    assert.throws(
      () => blocks("<!-- figures:a -->\n<!-- figures:b -->\n<!-- /figures:b -->", "x.md"),
      /figures:b --> inside figures:a/,
    );
  });

  it("puts each table between its markers and leaves the prose alone", () => {
    const out = splice(DOC, "doc.md", new Map([["a", "| A |"], ["b", "| B |"]]));
    assert.equal(
      out,
      DOC.replace("<!-- figures:a -->\nold table\n", "<!-- figures:a -->\n\n| A |\n\n")
        .replace("<!-- figures:b -->\n", "<!-- figures:b -->\n\n| B |\n\n"),
    );
    // Rendering twice gives the same text.
    assert.equal(splice(out, "doc.md", new Map([["a", "| A |"], ["b", "| B |"]])), out);
  });

  it("refuses a marker with no table of that name", () => {
    assert.throws(
      () => splice(DOC, "doc.md", new Map([["a", "x"]])),
      /doc\.md: no table named "b"/,
    );
  });

  it("summary: one header version when the rows agree, the row's own otherwise", () => {
    const row = (deno: string, bun: string) => ({
      what: "w",
      command: "c",
      cells: { deno: "1", bun: "2" },
      versions: { deno, bun },
    });
    const text = summaryTable([row("2.9.5", "1.4.5"), row("2.9.5", "1.3.14")]);
    assert.match(text, /^\| what \| command \| Deno 2\.9\.5 \| Bun \|$/m);
    assert.match(text, /^\| w \| `c` \| 1 \| 2 \(1\.4\.5\) \|$/m);
    assert.match(text, /^\| w \| `c` \| 1 \| 2 \(1\.3\.14\) \|$/m);
  });

  it("renders every table from the repository's results files, each shown in the docs", () => {
    const tables = renderAll(ROOT, SOURCES);
    const docs = ["README.md", "docs/figures.md"].map((f) => readFileSync(join(ROOT, f), "utf8"));
    for (const name of tables.keys()) {
      assert.ok(docs.some((d) => d.includes(`<!-- figures:${name} -->`)), `figures:${name} shown`);
    }
    assert.ok(tables.has(SUMMARY));
  });

  it("names the results file and its module when its format changed", () => {
    const dir = mkdtempSync(join(tmpdir(), "figures-"));
    try {
      const path = join(dir, corun.path);
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, JSON.stringify({ command: "x", results: [{ name: "deno-plain" }] }));
      assert.throws(
        () => renderAll(dir, [corun]),
        /rendering table "corun" from bench\/results\/corun\.json failed .*tools\/figures\//,
      );
      rmSync(path);
      assert.throws(() => renderAll(dir, [corun]), /bench\/results\/corun\.json does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
