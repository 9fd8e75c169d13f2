// SSE benchmark client, one process of several: opens COUNT raw HTTP/1.1 connections with
// `GET /sse`, waits until each has its headers and first bytes, then records how each one ends:
// cleanly (the terminating chunk `0\r\n\r\n` arrived, and which frame came last) or cut (reset,
// or closed without the terminating chunk).
//
//   PORT=8000 COUNT=2500 OUT=/tmp/c0.json bun bench/lib/sse_client.ts
//   PORT=8000 COUNT=2500 OUT=/tmp/c0.json deno run --allow-net --allow-env --allow-write bench/lib/sse_client.ts
//
// Environment:
//   PORT, COUNT  where to connect and how many streams to open.
//   OUT          where the result (SseClientResult as JSON) is written.
//   PARALLEL     connections being set up at once (default 64): opening thousands at once
//                overflows the listen backlog and the retried SYNs then take seconds.
//   FINAL        the frame a clean end must finish with (default `retry: 1000\n\n`).
//   CLOSE=1      the warm-up: close every stream once all are open, write OUT and exit.
// Prints `ready <opened> <failed>` once every connection is open or failed, and `done` once every
// connection is closed and OUT is written. On SIGTERM it writes OUT with whatever is still open
// (counted as such) and exits.
// Times are absolute milliseconds (performance.timeOrigin + performance.now()), comparable with
// the moment the orchestrator sent SIGTERM to the server.
// Under Bun it uses Bun.connect, elsewhere node:net.

import { writeFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";

/** What one client process saw. */
export interface SseClientResult {
  count: number;
  opened: number;
  /** Connections that failed before their first body bytes (refused, reset, bad response). */
  failedToOpen: number;
  /** First and last stream opened (absolute ms). */
  firstOpenAt: number;
  lastOpenAt: number;
  /** Terminating chunk received, the last frame being FINAL. */
  clean: number;
  /** Terminating chunk received, but the last frame was something else. */
  endedOtherFrame: number;
  /** Reset (an error such as ECONNRESET) before the terminating chunk. */
  cutReset: number;
  /** Closed by the peer (FIN) before the terminating chunk. */
  cutClosed: number;
  /** Still open when the result was written. */
  stillOpen: number;
  /** When each terminating chunk arrived, clean or not (absolute ms, in arrival order). */
  endAt: number[];
  /** When each cut was seen (absolute ms). */
  cutAt: number[];
  /** When the connection closed after a terminating chunk (absolute ms). */
  closeAfterEndAt: number[];
  /** Error codes seen, with counts. */
  errors: Record<string, number>;
  /** A few last frames of streams that ended with another frame, for diagnosis. */
  otherFrames: string[];
}

type Phase = "head" | "size" | "data" | "crlf" | "trailer" | "done";
type Outcome = "clean" | "other" | "reset" | "closed" | "failed";

/** One connection and its incremental chunked-body parser. */
interface Stream {
  socket: Connection | undefined;
  phase: Phase;
  /** Received text not parsed yet (latin1: one char per byte). */
  pending: string;
  /** Bytes left in the current chunk. */
  remaining: number;
  /** The last 64 characters of the decoded body. */
  tail: string;
  opened: boolean;
  errored: boolean;
  outcome: Outcome | undefined;
}

const TAIL = 64;

function _now(): number {
  return performance.timeOrigin + performance.now();
}

function _env(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === "") throw new TypeError(`sse_client: ${name} is required`);
  return value;
}

function _positive(name: string, fallback?: string): number {
  const raw = _env(name, fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`sse_client: ${name} must be a positive integer, received ${raw}`);
  }
  return value;
}

/** What the parser needs from a socket. */
interface Connection {
  write(text: string): void;
  destroy(): void;
}

/** Socket events, each at most once except `data`; `close` comes last. */
interface ConnectionEvents {
  connect(): void;
  /** Received bytes as latin1 text (one char per byte). */
  data(text: string): void;
  error(code: string): void;
  close(): void;
}

/** The part of Bun's TCP socket this client uses. */
interface BunSocket {
  write(data: string): number;
  end(): void;
  terminate(): void;
}

/** The part of the `Bun` global this client uses. */
interface BunGlobal {
  connect(options: {
    hostname: string;
    port: number;
    socket: {
      open(socket: BunSocket): void;
      data(socket: BunSocket, data: Uint8Array & { toString(encoding: "latin1"): string }): void;
      end(socket: BunSocket): void;
      close(socket: BunSocket, error?: Error): void;
      error(socket: BunSocket, error: Error & { code?: string }): void;
      connectError(socket: BunSocket, error: Error & { code?: string }): void;
    };
  }): Promise<BunSocket>;
}

/** node:net, for Deno (and anything else with Node's API). */
function _netConnect(port: number, events: ConnectionEvents): Connection {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.setEncoding("latin1");
  socket.on("connect", () => events.connect());
  socket.on("data", (text: string) => events.data(text));
  socket.on("error", (error: Error & { code?: string }) => events.error(error.code ?? error.name));
  socket.on("close", () => events.close());
  return { write: (text) => socket.write(text), destroy: () => socket.destroy() };
}

/**
 * Bun's own TCP client: about twice as fast as its node:net here, which matters when 10k
 * streams end within a few hundred milliseconds and the client's lag adds to what it measures.
 */
function _bunConnect(port: number, events: ConnectionEvents): Connection {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  let socket: BunSocket | undefined;
  let closed = false;
  let destroyed = false;
  let errored = false;
  const error = (e: Error & { code?: string }): void => {
    if (errored) return;
    errored = true;
    events.error(e.code ?? e.name);
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    events.close();
  };
  bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(s) {
        socket = s;
        if (destroyed) s.terminate();
        else events.connect();
      },
      data: (_s, data) => events.data(data.toString("latin1")),
      // The server's FIN: close our side too, as node:net does by default (allowHalfOpen false).
      end: (s) => s.end(),
      close: (_s, e) => {
        if (e) error(e);
        close();
      },
      error: (_s, e) => error(e),
      connectError: (_s, e) => {
        error(e);
        close();
      },
    },
  }).catch((e: Error & { code?: string }) => {
    error(e);
    close();
  });
  return {
    write: (text) => socket?.write(text),
    destroy: () => {
      destroyed = true;
      socket?.terminate();
    },
  };
}

function main(): void {
  const port = _positive("PORT");
  const count = _positive("COUNT");
  const out = _env("OUT");
  const parallel = _positive("PARALLEL", "64");
  const final = _env("FINAL", "retry: 1000\n\n");
  const closeWhenOpen = process.env.CLOSE === "1";
  const connect = "Bun" in globalThis ? _bunConnect : _netConnect;
  const request =
    `GET /sse HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`;

  const result: SseClientResult = {
    count,
    opened: 0,
    failedToOpen: 0,
    firstOpenAt: NaN,
    lastOpenAt: NaN,
    clean: 0,
    endedOtherFrame: 0,
    cutReset: 0,
    cutClosed: 0,
    stillOpen: 0,
    endAt: [],
    cutAt: [],
    closeAfterEndAt: [],
    errors: {},
    otherFrames: [],
  };
  const streams: Stream[] = [];
  let started = 0;
  let settingUp = 0;
  let closed = 0;
  let isReady = false;
  let finished = false;

  const finish = (): void => {
    if (finished) return;
    finished = true;
    result.stillOpen = streams.filter((s) => s.outcome === undefined).length +
      (count - started);
    writeFileSync(out, JSON.stringify(result));
    console.log("done");
    process.exit(0);
  };

  const settle = (stream: Stream, outcome: Outcome, at: number): void => {
    stream.outcome = outcome;
    if (outcome === "clean" || outcome === "other") result.endAt.push(at);
    if (outcome === "clean") result.clean++;
    else if (outcome === "other") {
      result.endedOtherFrame++;
      if (result.otherFrames.length < 5) result.otherFrames.push(stream.tail);
    } else if (outcome === "reset") result.cutReset++;
    else if (outcome === "closed") result.cutClosed++;
    else result.failedToOpen++;
  };

  const checkReady = (): void => {
    if (isReady || result.opened + result.failedToOpen < count) return;
    isReady = true;
    console.log(`ready ${result.opened} ${result.failedToOpen}`);
    if (closeWhenOpen) {
      for (const s of streams) s.socket!.destroy();
      finish();
    } else if (closed === count) {
      finish();
    }
  };

  const opened = (stream: Stream, at: number): void => {
    stream.opened = true;
    result.opened++;
    if (Number.isNaN(result.firstOpenAt)) result.firstOpenAt = at;
    result.lastOpenAt = at;
    settingUp--;
    launch();
    checkReady();
  };

  const failed = (stream: Stream, at: number): void => {
    settle(stream, "failed", at);
    settingUp--;
    launch();
    checkReady();
  };

  const parse = (stream: Stream, at: number): void => {
    while (true) {
      const text = stream.pending;
      if (stream.phase === "head") {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = text.slice(0, end);
        if (
          !/^HTTP\/1\.1 200 /.test(head) || !/^transfer-encoding:\s*chunked\s*$/im.test(head) ||
          !/^content-type:\s*text\/event-stream/im.test(head)
        ) {
          result.errors["bad response"] = (result.errors["bad response"] ?? 0) + 1;
          stream.errored = true;
          stream.socket!.destroy();
          return;
        }
        stream.pending = text.slice(end + 4);
        stream.phase = "size";
      } else if (stream.phase === "size") {
        const eol = text.indexOf("\r\n");
        if (eol < 0) return;
        const size = parseInt(text.slice(0, eol), 16);
        stream.pending = text.slice(eol + 2);
        stream.remaining = size;
        stream.phase = size === 0 ? "trailer" : "data";
      } else if (stream.phase === "data") {
        const n = Math.min(stream.remaining, text.length);
        if (n === 0) return;
        stream.tail = (stream.tail + text.slice(0, n)).slice(-TAIL);
        stream.pending = text.slice(n);
        stream.remaining -= n;
        if (stream.remaining === 0) stream.phase = "crlf";
        if (!stream.opened) opened(stream, at);
      } else if (stream.phase === "crlf") {
        if (text.length < 2) return;
        stream.pending = text.slice(2);
        stream.phase = "size";
      } else if (stream.phase === "trailer") {
        // No trailers are sent: the terminating chunk is `0\r\n\r\n`.
        if (text.length < 2) return;
        stream.phase = "done";
        settle(stream, stream.tail.endsWith(final) ? "clean" : "other", at);
        return;
      } else {
        return;
      }
    }
  };

  const open = (): void => {
    const stream: Stream = {
      socket: undefined,
      phase: "head",
      pending: "",
      remaining: 0,
      tail: "",
      opened: false,
      errored: false,
      outcome: undefined,
    };
    streams.push(stream);
    stream.socket = connect(port, {
      connect: () => stream.socket!.write(request),
      data: (text) => {
        stream.pending += text;
        parse(stream, _now());
      },
      error: (code) => {
        result.errors[code] = (result.errors[code] ?? 0) + 1;
        stream.errored = true;
      },
      close: () => {
        const at = _now();
        if (finished || (closeWhenOpen && isReady)) return;
        closed++;
        if (!stream.opened) failed(stream, at);
        else if (stream.outcome === undefined) {
          settle(stream, stream.errored ? "reset" : "closed", at);
        } else result.closeAfterEndAt.push(at);
        // Done once every connection is closed, so that the close times are complete too.
        if (closed === count && isReady) finish();
      },
    });
  };

  const launch = (): void => {
    while (settingUp < parallel && started < count) {
      started++;
      settingUp++;
      open();
    }
  };

  process.on("SIGTERM", finish);
  launch();
}

if (import.meta.main) main();
