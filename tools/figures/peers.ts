// bench/results/peers.json (`npm run bench:peers`): the shutdown scenarios on Node, each
// graceful-shutdown library beside the library. Tables `peers` (docs/figures.md) and
// `peers-short` (README.md).

import { caption, day, type FigureSource, table, version } from "./_table.ts";

interface Result {
  scenario: string;
  peer: string;
  pass: boolean;
  lost?: number;
  exit: string;
  sigtermToExitMs: number;
  killed: boolean;
  details?: { counts?: Record<"fresh" | "reused", Record<string, number>> };
}

interface Peers {
  date: string;
  command: string;
  versions: Record<string, string>;
  deadlineMs: number;
  peers: { id: string; label: string }[];
  scenarios: { id: string }[];
  results: Result[];
}

const PATH = "bench/results/peers.json";

/** The outcomes of a request written on a socket that got no complete response (race_client). */
const _LOST = ["write-error", "reset", "closed", "partial", "timeout"];

/** How the short tables name each peer. */
const _NAMES: Record<string, string> = {
  plain: "`server.close()`, then exit",
  "http-terminator": "http-terminator",
  terminus: "@godaddy/terminus",
  "close-with-grace": "close-with-grace",
  "http-graceful-shutdown": "http-graceful-shutdown",
  srvx: "srvx `gracefulShutdown`",
  library: "**`serve()`**",
  "library-drain-1000": "`serve()`, `drainDelay: 1000`",
};

interface Row {
  name: string;
  passed: string;
  reused: number;
  fresh: number;
  rollout: number;
  sse: string;
}

function _rows(p: Peers): Row[] {
  const find = (peer: string, scenario: string): Result => {
    const r = p.results.find((x) => x.peer === peer && x.scenario === scenario);
    if (r === undefined) throw new Error(`no ${scenario} result for ${peer}`);
    return r;
  };
  // The baseline with no SIGTERM listener shows that each scenario can fail; it is no peer.
  return p.peers.filter((peer) => peer.id !== "none").map((peer) => {
    const mine = p.results.filter((r) => r.peer === peer.id);
    const counts = find(peer.id, "keep-alive-load").details?.counts;
    if (counts === undefined) throw new Error(`no keep-alive load counts for ${peer.id}`);
    const lost = (kind: "fresh" | "reused"): number =>
      _LOST.reduce((total, o) => total + (counts[kind][o] ?? 0), 0);
    const sse = find(peer.id, "sse");
    const seconds = `${(sse.sigtermToExitMs / 1000).toFixed(sse.sigtermToExitMs < 1000 ? 2 : 1)} s`;
    return {
      name: _NAMES[peer.id] ?? peer.label,
      passed: `${mine.filter((r) => r.pass).length}/${mine.length}`,
      reused: lost("reused"),
      fresh: lost("fresh"),
      rollout: find(peer.id, "rolling-restart").lost ?? NaN,
      sse: sse.killed
        ? "never (killed)"
        : `${seconds}, ${sse.pass ? "ended cleanly" : "stream cut"}`,
    };
  });
}

function _caption(p: Peers): string {
  return caption(PATH, p.command, [
    day(p.date),
    `Node ${version(p.versions.node)}`,
    `deadline ${p.deadlineMs / 1000} s`,
    `library ${p.versions.library}`,
  ]);
}

/** One row per shutdown (the baseline left out). */
function _table(p: Peers): string {
  return table(
    [
      "shutdown",
      "scenarios passed",
      "keep-alive load: lost on reused / new sockets",
      "rolling restarts: lost",
      "endless SSE open: SIGTERM → exit",
    ],
    _rows(p).map((r) => [r.name, r.passed, `${r.reused} / ${r.fresh}`, String(r.rollout), r.sse]),
  );
}

export const peers: FigureSource = {
  path: PATH,
  tables: {
    peers: (results) => `${_caption(results as Peers)}\n\n${_table(results as Peers)}`,
    "peers-short": (results) => _table(results as Peers),
  },
};
