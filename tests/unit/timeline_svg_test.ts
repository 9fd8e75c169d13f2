// bench/lib/timeline_svg.ts, the drawing of docs/timeline.svg: requests in flight are counted
// right (time-weighted per bin), events land in their bins, and the picture of a small made-up run
// has its lanes, its marks and the numbers it claims. The measured picture is docs/timeline.svg
// (`npm run bench:timeline`).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { histogram, inFlight, timelineSvg } from "../../bench/lib/timeline_svg.ts";
import type { RaceFailure, RaceRun } from "../../bench/lib/race_scenario.ts";

function run(row: string, over: Partial<RaceRun>): RaceRun {
  const counts = { ok: 0 } as RaceRun["counts"]["fresh"];
  return {
    load: "busy",
    thinkMs: 2,
    runtime: "deno",
    row,
    rep: 0,
    pid: 1,
    warmMs: 400,
    exit: { code: 0, signal: null, killed: false, sigtermToExitMs: 40 },
    server: { listenerClosedAfterMs: 0.5, drainedInMs: 1, stderr: "" },
    rateBeforeSigterm: 9000,
    serverCpuTicks: { busy: 0, server: 0, foreign: 0 },
    counts: { fresh: counts, reused: counts },
    lost: { reused: 0, fresh: 0, total: 0 },
    badResponses: 0,
    refused: 0,
    okAfterSigterm: 0,
    connectionCloseResponses: 0,
    writesAfterConnectionClose: 0,
    closedWhileIdle: 0,
    socketsOpened: 0,
    firstConnectionCloseMs: null,
    lastOkMs: 1,
    firstRefusedMs: null,
    failures: [],
    cores: [],
    loadavg: [],
    timeline: { ok: [], connectionClose: [], refused: [] },
    ...over,
  };
}

function lostAt(endMs: number, kind: "fresh" | "reused"): RaceFailure {
  return {
    kind,
    method: "GET",
    outcome: "closed",
    previous: kind === "reused" ? 3 : 0,
    socket: 1,
    bytes: 0,
    connectMs: -10,
    startMs: endMs - 1,
    writtenMs: endMs - 1,
    endMs,
  };
}

describe("bench/lib/timeline_svg.ts", () => {
  it("inFlight: the time-weighted mean of overlapping requests per bin", () => {
    // [0, 10) one request, [5, 10) a second: bin 0 (0..5) holds 1, bin 1 (5..10) holds 2.
    const s = inFlight([[0, 10], [5, 10]], 0, 10, 5);
    assert.deepEqual(s.values, [1, 2]);
    // Half a bin counts a half; a request outside the range counts nowhere.
    assert.deepEqual(inFlight([[2.5, 5], [20, 30]], 0, 10, 5).values, [0.5, 0]);
    // A request from before the range counts from its start.
    assert.deepEqual(inFlight([[-100, 5]], 0, 10, 5).values, [1, 0]);
    assert.throws(() => inFlight([], 0, 10, 0), /binMs > 0/);
  });

  it("histogram: each event in its bin, none outside", () => {
    assert.deepEqual(histogram([-1, 0, 0.5, 4.9, 5, 10], 0, 5, 2), [3, 1]);
  });

  it("draws both lanes with their counts, marks and a legend", () => {
    const raw = run("raw", {
      failures: [lostAt(2, "reused"), lostAt(2.2, "reused")],
      refused: 5,
      timeline: { ok: [[-20, -19], [-5, 1]], connectionClose: [], refused: [3, 13] },
    });
    const library = run("default", {
      exit: { code: 0, signal: null, killed: false, sigtermToExitMs: 320 },
      server: { listenerClosedAfterMs: 305, drainedInMs: 310, stderr: "" },
      lastOkMs: 306,
      okAfterSigterm: 900,
      connectionCloseResponses: 880,
      failures: [lostAt(307, "fresh")],
      timeline: { ok: [[-20, -19], [100, 101]], connectionClose: [50, 101], refused: [] },
    });
    const svg = timelineSvg({
      title: "T",
      subtitle: "S",
      sockets: 32,
      lanes: [{ title: "raw lane", run: raw }, { title: "library lane", run: library }],
    });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 960 \d+"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.match(svg, /raw lane/);
    assert.match(svg, /2 lost \(2 on reused sockets, 0 on fresh\) · 5 connects refused/);
    assert.match(svg, /1 lost \(0 on reused sockets, 1 on fresh\)/);
    assert.match(svg, /900 responses after SIGTERM, 880 with Connection: close/);
    assert.match(
      svg,
      /listener closed 305 ms \(server log\) · last 2xx byte 306 ms · exit \(code 0\) 320 ms/,
    );
    // The two losses of the raw lane are 0.2 ms apart: one cluster, labelled 2.
    assert.match(svg, /<text class="lostn"[^>]*>2<\/text>/);
    // One exit line per lane (the legend's swatch aside), and the dark theme.
    assert.equal(svg.match(/class="mark" stroke-width="2" d="M[\d.]+ [\d.]+V/g)?.length, 2);
    assert.match(svg, /prefers-color-scheme:dark/);
  });
});
