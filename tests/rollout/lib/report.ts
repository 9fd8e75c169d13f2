// The rolling-restart results as markdown: one table row per scenario, then what failed and when.

import { clientOf, type ProxyFailure, type RowResult, type RowSpec } from "./scenario.ts";

/** How a row is named in the tables. */
export function serverLabel(spec: RowSpec): string {
  if (spec.topology === "reload-only") return `none restarted (wrk: ${clientOf(spec)})`;
  switch (spec.server) {
    case "library":
      return spec.drainDelayMs === null
        ? "library, default drainDelay (adaptive)"
        : `library, DRAIN_DELAY_MS=${spec.drainDelayMs}`;
    case "raw-exit":
      return "raw, SIGTERM kills it";
    case "raw-shutdown":
      return spec.runtime === "deno" ? "raw, SIGTERM -> shutdown()" : "raw, SIGTERM -> stop()";
  }
}

function _pathLabel(spec: RowSpec): string {
  switch (spec.topology) {
    case "reload":
      return "nginx, new port + reload";
    case "same-port":
      return "nginx, same port";
    case "reuseport":
      return "reusePort, no proxy";
    case "reload-only":
      return "nginx, reload only (control)";
  }
}

function _statuses(row: RowResult): string {
  if (!row.load) return "—";
  const parts = Object.entries(row.load.status)
    .filter(([status]) => !/^2\d\d$/.test(status))
    .map(([status, count]) => `${count}×${status}`);
  return parts.length ? parts.join(" ") : "0";
}

function _ok(row: RowResult): number {
  if (!row.load) return 0;
  return Object.entries(row.load.status)
    .filter(([status]) => /^2\d\d$/.test(status))
    .reduce((sum, [, count]) => sum + count, 0);
}

function _restarts(row: RowResult): string {
  if (row.spec.topology === "reload-only") return `${row.restarts.length} nginx reloads`;
  return row.restarts
    .map((r) => `${r.instance}: ${r.exit.replace("code ", "")} in ${r.exitAfterMs} ms`)
    .join("; ");
}

/** The main table. `gate` marks the rows the exit code depends on. */
export function resultTable(rows: readonly RowResult[], gate: (row: RowResult) => boolean): string {
  const lines = [
    "| runtime | path | server on SIGTERM | requests | req/s | 2xx | non-2xx | connect | read | write | timeout | bad body | **failures** | saved by nginx retry | restarts: exit, SIGTERM → exit |",
    "| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of rows) {
    const { spec, load } = row;
    const e = load?.socketErrors;
    const failures = row.error
      ? "**did not run**"
      : `**${row.failures}**${gate(row) ? (row.failures === 0 ? " ✓" : " ✗") : ""}`;
    lines.push(
      `| ${spec.runtime} | ${_pathLabel(spec)} | ${serverLabel(spec)} | ${
        load?.requests ?? "—"
      } | ${load ? Math.round(load.rps) : "—"} | ${load ? _ok(row) : "—"} | ${_statuses(row)} | ${
        e?.connect ?? "—"
      } | ${e?.read ?? "—"} | ${e?.write ?? "—"} | ${e?.timeout ?? "—"} | ${
        load?.badBody ?? "—"
      } | ${failures} | ${row.retriedOk ?? "—"} | ${_restarts(row)} |`,
    );
  }
  return lines.join("\n");
}

/** Groups the proxy's failures by restart, status, method and upstream outcome. */
function _groupFailures(failures: readonly ProxyFailure[]): string[] {
  const groups = new Map<string, { count: number; min: number; max: number }>();
  for (const f of failures) {
    const key = `after event #${f.restart + 1}: ${f.status} ${f.method} ${f.uri} ` +
      `(tried ${f.upstreams || "none"}; upstream status ${f.upstreamStatuses || "-"})`;
    const group = groups.get(key) ?? { count: 0, min: Infinity, max: -Infinity };
    group.count++;
    group.min = Math.min(group.min, f.afterSigtermMs);
    group.max = Math.max(group.max, f.afterSigtermMs);
    groups.set(key, group);
  }
  return [...groups].map(([key, g]) =>
    `${g.count}× ${key}, +${g.min}${g.max !== g.min ? `…+${g.max}` : ""} ms after it`
  );
}

/** Per row: when the restarts happened, what failed and what nginx saw. */
export function details(rows: readonly RowResult[]): string {
  const out: string[] = [];
  for (const row of rows) {
    const { spec } = row;
    out.push(`### ${spec.runtime}, ${_pathLabel(spec)}, ${serverLabel(spec)}`, "");
    if (row.error) out.push(`- **did not run**: ${row.error}`);
    for (const problem of row.problems) out.push(`- **problem**: ${problem}`);
    for (const note of row.notes) out.push(`- note: ${note}`);
    if (row.load) {
      const l = row.load;
      out.push(
        `- load: ${l.requests} responses in ${l.durationS.toFixed(1)} s (sent ${l.sent.get} GET, ` +
          `${l.sent.post} POST); latency p50 ${l.latencyMs.p50} ms, p99 ${l.latencyMs.p99} ms, ` +
          `max ${l.latencyMs.max} ms; wrk's own non-2xx count ${l.non2xxWrk}`,
      );
    }
    row.restarts.forEach((r, i) => {
      if (r.instance === "-") {
        out.push(`- nginx reload #${i + 1} at +${r.sigtermAtMs} ms (no instance touched)`);
        return;
      }
      out.push(
        `- SIGTERM #${i + 1} to ${r.instance} (port ${r.port}) at +${r.sigtermAtMs} ms: ` +
          `exited ${r.exit} after ${r.exitAfterMs} ms${r.killed ? " (SIGKILLed)" : ""}; ` +
          `replacement listening ${r.replacementListeningAfterMs} ms after the SIGTERM` +
          (r.servedAfterSigterm === undefined ? "" : `; it answered ${r.servedAfterSigterm} ` +
            `request(s) after the SIGTERM, the last at +${r.lastServedAfterMs} ms`),
      );
    });
    if (row.proxyFailures?.length) {
      out.push("- failed requests (nginx access log):");
      for (const line of _groupFailures(row.proxyFailures)) out.push(`  - ${line}`);
    }
    const kinds = Object.entries(row.upstreamErrors ?? {});
    if (kinds.length) {
      out.push("- upstream errors in nginx's error log (a GET is retried, a sent POST is not):");
      for (const [kind, count] of kinds.sort((x, y) => y[1] - x[1])) {
        out.push(`  - ${count}× ${kind}`);
      }
    }
    if (row.failures > 0 && spec.server === "library" && spec.topology !== "reload-only") {
      const logs = row.restarts.map((r, i) => `SIGTERM #${i + 1} (${r.instance}):\n${r.stderr}`);
      out.push("- the instances' stderr:", "", "```", ...logs, "```");
    }
    out.push("");
  }
  return out.join("\n");
}
