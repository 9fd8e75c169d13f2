// The peer comparison's markdown: the matrix (peer × scenario), the summary columns, and what the
// client saw in each cell.

import { LOST, type OutcomeCounts } from "../lib/race_client.ts";
import type { Peer, Scenario, ScenarioResult } from "./scenarios.ts";

/** What the results file says about its run. */
export interface PeersHeader {
  date: string;
  command: string;
  mode: "quick" | "full";
  versions: Record<string, string>;
  machine: { nproc: number; cpu: string; kernel: string };
  deadlineMs: number;
  killAfterMs: number;
  elapsedS: number;
  loadavg: number[];
}

/** Keep-alive load: the requests lost on sockets that had already carried a response. */
function _lostReused(result: ScenarioResult): number | undefined {
  const counts = (result.details?.counts as OutcomeCounts | undefined)?.reused;
  return counts === undefined ? undefined : LOST.reduce((total, o) => total + counts[o], 0);
}

function _cell(result: ScenarioResult | undefined): string {
  if (result === undefined) return "–";
  if (result.error !== undefined) return "error";
  const verdict = result.pass ? "pass" : "**FAIL**";
  if (result.scenario === "rolling-restart") return `${verdict} (${result.lost} lost)`;
  const reused = result.scenario === "keep-alive-load" ? _lostReused(result) : undefined;
  return reused === undefined
    ? verdict
    : `${verdict} (${reused} lost on reused sockets, ${result.lost! - reused} on new ones)`;
}

function _exitCell(result: ScenarioResult | undefined): string {
  if (result === undefined || result.error !== undefined) return "–";
  return result.killed
    ? `hung (killed at ${(result.sigtermToExitMs / 1000).toFixed(1)} s)`
    : `${result.sigtermToExitMs} ms (${result.exit})`;
}

/** The whole results page. */
export function peersMarkdown(
  header: PeersHeader,
  peers: readonly Peer[],
  scenarios: readonly Scenario[],
  results: readonly ScenarioResult[],
): string {
  const find = (peer: string, scenario: string): ScenarioResult | undefined =>
    results.find((r) => r.peer === peer && r.scenario === scenario);
  const lines: string[] = [];
  lines.push("# Peers on Node: the same shutdown scenarios, each graceful-shutdown library");
  lines.push("");
  lines.push(
    `\`${header.command}\` — ${header.date}, ${header.mode} mode (${header.elapsedS} s), ` +
      `Node ${header.versions.node}, deadline ${header.deadlineMs} ms for every peer that has ` +
      `one, a process still running ${header.killAfterMs} ms after SIGTERM is SIGKILLed; ` +
      `${header.machine.nproc} × ${header.machine.cpu}, load average ${
        header.loadavg.join(" ")
      }; library ${header.versions.library}.`,
  );
  lines.push("");
  lines.push(
    `| peer | ${scenarios.map((s) => s.title).join(" | ")} | passed | ` +
      `requests lost | SIGTERM → exit, in-flight | SIGTERM → exit, SSE |`,
  );
  lines.push(`|---|${scenarios.map(() => "---").join("|")}|---|---|---|---|`);
  for (const peer of peers) {
    const mine = results.filter((r) => r.peer === peer.id);
    const passed = mine.filter((r) => r.pass).length;
    const lost = mine.reduce((total, r) => total + (r.lost ?? 0), 0);
    lines.push(
      `| ${peer.label} | ${scenarios.map((s) => _cell(find(peer.id, s.id))).join(" | ")} | ` +
        `${passed}/${mine.length} | ${lost} | ${_exitCell(find(peer.id, "in-flight"))} | ` +
        `${_exitCell(find(peer.id, "sse"))} |`,
    );
  }
  lines.push("");
  lines.push(
    "Requests lost: the sum over the scenarios that count them (in-flight, keep-alive reuse, " +
      "upload: 1 each when the request got no complete answer; keep-alive load: requests " +
      "written on a socket that ended without a complete response, on reused and on new " +
      "sockets; rolling restart: every failed request wrk and the slow POSTs saw through " +
      "nginx). SIGTERM → exit: the time, then the exit code or the signal that ended the " +
      "process (terminus sends SIGTERM to itself again once done); hung: still running when " +
      "it was SIGKILLed.",
  );
  lines.push("");
  lines.push("## What each scenario requires");
  lines.push("");
  for (const scenario of scenarios) lines.push(`- **${scenario.title}**: ${scenario.passes}.`);
  lines.push("");
  lines.push("## What the client saw");
  lines.push("");
  for (const scenario of scenarios) {
    lines.push(`### ${scenario.title}`);
    lines.push("");
    lines.push("| peer | result | what the client saw |");
    lines.push("|---|---|---|");
    for (const peer of peers) {
      const result = find(peer.id, scenario.id);
      if (result === undefined) continue;
      const seen = (result.error !== undefined ? `harness error: ${result.error}` : result.client)
        .replaceAll("|", "\\|").replaceAll("\n", " ");
      lines.push(`| ${peer.label} | ${_cell(result)} | ${seen} |`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
