// Draws bench/results/timeline.json as docs/timeline.svg: one lane per shutdown (the raw runtime's,
// the library's) on one time axis in ms from SIGTERM. Hand-written SVG with no dependencies; the
// colours switch with prefers-color-scheme and sit on their own background, so the picture reads
// on light and dark pages alike.

import type { RaceRun } from "./race_scenario.ts";
import { LOST } from "./race_client.ts";

/** One lane of the picture: one measured shutdown. */
export interface TimelineLane {
  /** E.g. `Deno 2.9.5, raw: Deno.serve + server.shutdown() on SIGTERM`. */
  title: string;
  run: RaceRun;
}

/** What the picture says about the whole measurement. */
export interface TimelinePicture {
  title: string;
  /** The line under the title: when, with which command. */
  subtitle: string;
  /** Sockets of the client's pool: the top of the in-flight axis. */
  sockets: number;
  lanes: TimelineLane[];
}

/** A time-weighted mean of requests in flight per bin. */
export interface InFlightSeries {
  fromMs: number;
  binMs: number;
  values: number[];
}

/**
 * Requests in flight over [fromMs, toMs), as the mean over each bin of `binMs` (time-weighted):
 * each span [start, end] counts from its start to its end.
 * @throws {RangeError} when the bin or the range is empty.
 */
export function inFlight(
  spans: readonly (readonly [number, number])[],
  fromMs: number,
  toMs: number,
  binMs: number,
): InFlightSeries {
  if (!(binMs > 0) || !(toMs > fromMs)) {
    throw new RangeError(
      `inFlight: expected binMs > 0 and toMs > fromMs, received binMs ${binMs}, ${fromMs}..${toMs}`,
    );
  }
  const bins = Math.ceil((toMs - fromMs) / binMs);
  const values = new Array<number>(bins).fill(0);
  for (const [start, end] of spans) {
    const a = Math.max(start, fromMs);
    const b = Math.min(end, fromMs + bins * binMs);
    if (!(b > a)) continue;
    // Add the overlap of [a, b) with every bin it touches.
    const first = Math.floor((a - fromMs) / binMs);
    const last = Math.min(bins - 1, Math.floor((b - fromMs) / binMs));
    for (let i = first; i <= last; i++) {
      const lo = Math.max(a, fromMs + i * binMs);
      const hi = Math.min(b, fromMs + (i + 1) * binMs);
      if (hi > lo) values[i]! += (hi - lo) / binMs;
    }
  }
  return { fromMs, binMs, values };
}

/** How many of `times` fall in each bin of [fromMs, fromMs + bins × binMs). */
export function histogram(
  times: readonly number[],
  fromMs: number,
  binMs: number,
  bins: number,
): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const t of times) {
    const i = Math.floor((t - fromMs) / binMs);
    if (i >= 0 && i < bins) counts[i]!++;
  }
  return counts;
}

const _W = 960;
const _LEFT = 56;
const _RIGHT = 24;
const _PLOT_H = 96;
const _STRIP_H = 14;
const _LANE_H = 44 + _PLOT_H + 2 * (_STRIP_H + 4) + 34;
const _TOP = 70;

const _STYLE = `
.bg{fill:#ffffff}.fg{fill:#1f2328}.mute{fill:#59636e}.grid{stroke:#d1d9e0}.axis{stroke:#59636e}
.flight{stroke:#0969da;fill:none}.area{fill:#0969da;fill-opacity:.18}.close{fill:#bf8700}.lost{stroke:#cf222e;fill:#cf222e}.lostn{fill:#cf222e;font-size:11px}
.refused{stroke:#818b98}.mark{stroke:#1f2328}.listener{stroke:#8250df}.lastbyte{stroke:#1a7f37}
.sigterm{stroke:#59636e}
@media (prefers-color-scheme:dark){.bg{fill:#0d1117}.fg{fill:#f0f6fc}.mute{fill:#9198a1}
.grid{stroke:#3d444d}.axis{stroke:#9198a1}.flight{stroke:#4493f8;fill:none}.area{fill:#4493f8;fill-opacity:.25}.close{fill:#d29922}
.lost{stroke:#f85149;fill:#f85149}.lostn{fill:#f85149}.refused{stroke:#9198a1}.mark{stroke:#f0f6fc}
.listener{stroke:#ab7df8}.lastbyte{stroke:#3fb950}.sigterm{stroke:#9198a1}}
text{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;font-size:12px}
.t{font-size:16px;font-weight:600}.h{font-size:13px;font-weight:600}`;

function _esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function _n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** ms as the picture prints them: one decimal below 100 ms, none above. */
function _ms(value: number): string {
  return value < 100 ? value.toFixed(1) : value.toFixed(0);
}

/** A round step for axis ticks: about `count` ticks over `span`. */
function _step(span: number, count: number): number {
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** The axis range: from a little before SIGTERM to a little after the last exit. */
export function timeRange(runs: readonly RaceRun[]): { fromMs: number; toMs: number } {
  const lastExit = Math.max(...runs.map((r) => r.exit.sigtermToExitMs));
  const span = Math.max(50, lastExit) * 1.15;
  const step = _step(span, 8);
  return { fromMs: -step, toMs: Math.ceil((lastExit + step / 2) / step) * step };
}

function _lane(
  lane: TimelineLane,
  y0: number,
  x: (ms: number) => number,
  fromMs: number,
  toMs: number,
  sockets: number,
  closeMax: number,
): string {
  const run = lane.run;
  const tl = run.timeline;
  if (tl === undefined) throw new Error(`timeline: the run "${run.row}" has no timeline`);
  const out: string[] = [];
  const plotTop = y0 + 44;
  const plotBottom = plotTop + _PLOT_H;
  const y = (count: number): number => plotBottom - (count / sockets) * _PLOT_H;
  const lost = run.failures.filter((f) => LOST.includes(f.outcome));
  const reused = lost.filter((f) => f.kind === "reused").length;
  const exitText = run.exit.killed
    ? "killed"
    : run.exit.signal
    ? run.exit.signal
    : `code ${run.exit.code}`;

  out.push(`<text class="fg h" x="${_LEFT}" y="${y0 + 14}">${_esc(lane.title)}</text>`);
  out.push(
    `<text class="mute" x="${_LEFT}" y="${y0 + 32}">${
      _esc(
        `${lost.length} lost (${reused} on reused sockets, ${lost.length - reused} on fresh) · ` +
          `${run.refused} connects refused · ${run.okAfterSigterm} responses after SIGTERM, ` +
          `${run.connectionCloseResponses} with Connection: close`,
      )
    }</text>`,
  );
  // Grid and the in-flight axis.
  for (const count of [0, sockets / 2, sockets]) {
    out.push(
      `<path class="grid" d="M${_LEFT} ${_n(y(count))}H${_W - _RIGHT}"/>` +
        `<text class="mute" x="${_LEFT - 6}" y="${
          _n(y(count) + 4)
        }" text-anchor="end">${count}</text>`,
    );
  }
  out.push(
    `<text class="mute" transform="translate(18 ${
      _n((plotTop + plotBottom) / 2)
    }) rotate(-90)" text-anchor="middle">in flight</text>`,
  );
  // Requests in flight: the mean over every 3 px of time, as a line over a light area.
  const binMs = (toMs - fromMs) / (_W - _LEFT - _RIGHT);
  const flightBinMs = 3 * binMs;
  const spans: [number, number][] = [
    ...tl.ok,
    ...run.failures.filter((f) => f.outcome !== "connect-error").map((f) =>
      [f.startMs, f.endMs] as [number, number]
    ),
  ];
  const series = inFlight(spans, fromMs, toMs, flightBinMs);
  const line = series.values.map((v, i) =>
    `${i === 0 ? "M" : "L"}${_n(x(Math.min(toMs, fromMs + (i + 0.5) * flightBinMs)))} ${_n(y(v))}`
  ).join("");
  out.push(`<path class="area" d="${line}V${plotBottom}H${_LEFT}z"/>`);
  out.push(`<path class="flight" stroke-width="1.5" d="${line}"/>`);

  // Strips: Connection: close responses per 2 px, then lost requests and refused connects.
  const closeTop = plotBottom + 4;
  const stripBin = binMs * 2;
  const bins = Math.ceil((toMs - fromMs) / stripBin);
  const closeCounts = histogram(tl.connectionClose, fromMs, stripBin, bins);
  const bars = closeCounts.map((c, i) =>
    c === 0
      ? ""
      : `M${_n(x(fromMs + i * stripBin))} ${closeTop + _STRIP_H}v-${
        _n(Math.max(1, (c / closeMax) * _STRIP_H))
      }h1.6v${_n(Math.max(1, (c / closeMax) * _STRIP_H))}z`
  ).join("");
  if (bars) out.push(`<path class="close" d="${bars}"/>`);
  const markTop = closeTop + _STRIP_H + 4;
  const refused = histogram(tl.refused, fromMs, stripBin, bins)
    .map((c, i) => c === 0 ? "" : `M${_n(x(fromMs + (i + 0.5) * stripBin))} ${markTop + 3}v8`)
    .join("");
  if (refused) out.push(`<path class="refused" stroke-width="1" d="${refused}"/>`);
  const crosses = lost.map((f) => {
    const cx = x(Math.min(Math.max(f.endMs, fromMs), toMs));
    const cy = markTop + 7;
    return `M${_n(cx - 3)} ${cy - 3}l6 6m0 -6l-6 6`;
  }).join("");
  if (crosses) out.push(`<path class="lost" stroke-width="1.5" d="${crosses}"/>`);
  // Losses often fall within a ms of each other: their crosses overlap, so each cluster says how many.
  const xs = lost.map((f) => x(Math.min(Math.max(f.endMs, fromMs), toMs))).sort((a, b) => a - b);
  for (let i = 0; i < xs.length;) {
    let j = i + 1;
    while (j < xs.length && xs[j]! - xs[j - 1]! < 8) j++;
    if (j - i > 1) {
      out.push(
        `<text class="lostn" x="${_n(xs[j - 1]! + 6)}" y="${markTop + 11}">${j - i}</text>`,
      );
    }
    i = j;
  }

  // The moments: SIGTERM, the listener closed (server log), the last 2xx response, the exit.
  const bottom = markTop + _STRIP_H;
  const vline = (cls: string, ms: number | null, dash: string, width = 1.5): void => {
    if (ms === null || ms < fromMs || ms > toMs) return;
    out.push(
      `<path class="${cls}" stroke-width="${width}"${
        dash ? ` stroke-dasharray="${dash}"` : ""
      } d="M${_n(x(ms))} ${plotTop - 6}V${bottom}"/>`,
    );
  };
  vline("sigterm", 0, "2 3", 1);
  vline("listener", run.server.listenerClosedAfterMs, "6 3");
  vline("lastbyte", run.lastOkMs, "2 2");
  vline("mark", run.exit.killed ? null : run.exit.sigtermToExitMs, "", 2);
  const moments = [
    `listener closed ${
      run.server.listenerClosedAfterMs === null ? "?" : _ms(run.server.listenerClosedAfterMs)
    } ms (server log)`,
    `last 2xx byte ${run.lastOkMs === null ? "?" : _ms(run.lastOkMs)} ms`,
    `exit (${exitText}) ${_ms(run.exit.sigtermToExitMs)} ms`,
  ];
  out.push(
    `<text class="fg" x="${_LEFT}" y="${bottom + 18}">${
      _esc(`After SIGTERM: ${moments.join(" · ")}`)
    }</text>`,
  );
  return out.join("\n");
}

function _legend(y0: number): { svg: string; height: number } {
  const items: [string, string][] = [
    [
      `<path class="flight" stroke-width="1.5" d="M0 6h22"/>`,
      "requests in flight (as the client sees them)",
    ],
    [`<path class="close" d="M8 12v-10h6v10z"/>`, "responses with Connection: close"],
    [
      `<path class="lost" stroke-width="1.5" d="M8 3l6 6m0 -6l-6 6"/>`,
      "request lost (written, no complete response)",
    ],
    [`<path class="refused" d="M11 2v9"/>`, "connect refused (nothing written)"],
    [
      `<path class="listener" stroke-width="1.5" stroke-dasharray="6 3" d="M11 0v14"/>`,
      "listener closed",
    ],
    [
      `<path class="lastbyte" stroke-width="1.5" stroke-dasharray="2 2" d="M11 0v14"/>`,
      "last 2xx response byte",
    ],
    [`<path class="mark" stroke-width="2" d="M11 0v14"/>`, "process exit"],
  ];
  // Flowed left to right, wrapped at the right margin (about 6 px per character).
  let gx = _LEFT;
  let gy = y0;
  const svg = items.map(([icon, label]) => {
    const width = 28 + label.length * 6 + 24;
    if (gx + width > _W - _RIGHT && gx > _LEFT) {
      gx = _LEFT;
      gy += 22;
    }
    const g = `<g transform="translate(${_n(gx)} ${gy})">${icon}<text class="fg" x="28" y="11">${
      _esc(label)
    }</text></g>`;
    gx += width;
    return g;
  }).join("\n");
  return { svg, height: gy - y0 + 22 };
}

/** The whole picture as an SVG document. */
export function timelineSvg(picture: TimelinePicture): string {
  const runs = picture.lanes.map((l) => l.run);
  const { fromMs, toMs } = timeRange(runs);
  const x = (ms: number): number =>
    _LEFT + ((ms - fromMs) / (toMs - fromMs)) * (_W - _LEFT - _RIGHT);
  const stripBinMs = 2 * (toMs - fromMs) / (_W - _LEFT - _RIGHT);
  const bins = Math.ceil((toMs - fromMs) / stripBinMs);
  const closeMax = Math.max(
    1,
    ...picture.lanes.map((l) =>
      Math.max(0, ...histogram(l.run.timeline?.connectionClose ?? [], fromMs, stripBinMs, bins))
    ),
  );
  const axisY = _TOP + picture.lanes.length * _LANE_H;
  const legend = _legend(axisY + 42);
  const height = axisY + 42 + legend.height;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${_W}" height="${height}" ` +
      `viewBox="0 0 ${_W} ${height}" role="img" aria-labelledby="title desc">`,
  );
  out.push(`<title id="title">${_esc(picture.title)}</title>`);
  out.push(`<desc id="desc">${_esc(picture.subtitle)}</desc>`);
  out.push(`<style>${_STYLE}</style>`);
  out.push(`<rect class="bg" width="${_W}" height="${height}" rx="8"/>`);
  out.push(`<text class="fg t" x="${_LEFT}" y="28">${_esc(picture.title)}</text>`);
  out.push(`<text class="mute" x="${_LEFT}" y="48">${_esc(picture.subtitle)}</text>`);
  picture.lanes.forEach((lane, i) => {
    out.push(_lane(lane, _TOP + i * _LANE_H, x, fromMs, toMs, picture.sockets, closeMax));
  });
  // The time axis, shared by the lanes.
  const step = _step(toMs - fromMs, 10);
  const ticks: string[] = [];
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
    ticks.push(
      `<path class="axis" d="M${_n(x(t))} ${axisY}v5"/><text class="mute" x="${_n(x(t))}" y="${
        axisY + 18
      }" text-anchor="middle">${t === 0 ? "SIGTERM" : t}</text>`,
    );
  }
  out.push(`<path class="axis" d="M${_LEFT} ${axisY}H${_W - _RIGHT}"/>`);
  out.push(ticks.join("\n"));
  out.push(
    `<text class="mute" x="${_W - _RIGHT}" y="${
      axisY + 32
    }" text-anchor="end">ms after SIGTERM</text>`,
  );
  out.push(legend.svg);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
