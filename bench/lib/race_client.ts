// The keep-alive race client: a pool of raw HTTP/1.1 sockets (node:net) that keeps sending
// requests on every socket, one at a time with a random pause in between (GET / and POST /echo,
// mixed), and records how every request ended and on which kind of socket: fresh (its first
// request) or reused (a keep-alive socket that has already carried a complete response).
//
// The client is compliant by default: a response with `Connection: close` ends the socket (the
// next request goes on a new one), and a socket on which the server's FIN was seen while idle is
// not reused. `compliant: false` ignores `Connection: close` (it still never writes on a socket
// it saw closed), to show what a client that breaks the rule gets.

import net from "node:net";
import { setImmediate } from "node:timers";

/** How one request ended. */
export type Outcome =
  /** A complete 2xx response with the expected body. */
  | "ok"
  /** A complete response that was not a 2xx or not the expected body. */
  | "bad-response"
  /** The connect was refused (ECONNREFUSED): nothing was written. Fresh sockets only. */
  | "refused"
  /** The connect failed otherwise (or timed out): nothing was written. */
  | "connect-error"
  /** The write failed because the server had closed the socket (EPIPE). */
  | "write-error"
  /** Written, then reset (ECONNRESET) before any response byte. */
  | "reset"
  /** Written, then the server closed the socket (FIN) before any response byte. */
  | "closed"
  /** Part of a response arrived, then the socket closed or was reset. */
  | "partial"
  /** Written, and no response within the response timeout. */
  | "timeout";

/** Every outcome, in table order. */
export const OUTCOMES: readonly Outcome[] = [
  "ok",
  "bad-response",
  "refused",
  "connect-error",
  "write-error",
  "reset",
  "closed",
  "partial",
  "timeout",
];

/** Outcomes of a request that was handed to a socket and got no complete response. */
export const LOST: readonly Outcome[] = ["write-error", "reset", "closed", "partial", "timeout"];

/** On which kind of socket a request went. */
export type SocketKind = "fresh" | "reused";

/** One request that did not end `ok` (times are performance.now() of this process). */
export interface FailedRequest {
  slot: number;
  /** Socket number within the run (1, 2, …). */
  socket: number;
  kind: SocketKind;
  /** Complete responses this socket carried before this request. */
  previous: number;
  method: "GET" | "POST";
  outcome: Outcome;
  /** The error code (ECONNRESET, EPIPE, ECONNREFUSED, …), if there was one. */
  code?: string;
  status?: number;
  /** Response bytes received before the failure. */
  bytes: number;
  /** When the connect of this socket began. */
  connectAt: number;
  /** The request was handed to the socket (after the connect, for a fresh socket). */
  startAt: number;
  /** The write was flushed to the kernel; NaN when it was not. */
  writtenAt: number;
  endAt: number;
  /** Reused sockets: when the previous response on this socket was complete. */
  previousResponseAt?: number;
  /** Reused sockets: whether the previous response said `Connection: close`. */
  previousConnectionClose?: boolean;
}

/** Counts per socket kind and outcome. */
export type OutcomeCounts = Record<SocketKind, Record<Outcome, number>>;

/** What the pool saw in one run. */
export interface RaceClientResult {
  counts: OutcomeCounts;
  /** Every request that did not end `ok`, except refused connects (counted only). */
  failed: FailedRequest[];
  /** Refused connects: when each happened (performance.now()). */
  refusedAt: number[];
  /** Complete 2xx responses, with the time each one was complete (performance.now()). */
  okAt: number[];
  /** The same responses (same order): when each request was handed to its socket. */
  okStartAt: number[];
  /** Responses that said `Connection: close`, with their completion times. */
  connectionCloseAt: number[];
  /**
   * Requests written on a socket after it had delivered a `Connection: close` response. A
   * compliant client writes none.
   */
  writesAfterConnectionClose: number;
  /** Sockets whose FIN (or reset) from the server was seen while idle, so they were not reused. */
  closedWhileIdle: number;
  /** Sockets opened (connects attempted, refused ones included). */
  socketsOpened: number;
}

/** Options of {@linkcode RaceClient}. */
export interface RaceClientOptions {
  port: number;
  /** Sockets in the pool; each carries one request at a time. */
  sockets: number;
  /** Share of requests that are `POST /echo` (the rest are `GET /`). */
  postShare: number;
  /** Size of each POST body in bytes. */
  bodyBytes: number;
  /** Pause after a refused connect before the slot tries again. */
  refusedRetryMs: number;
  /** A request (or a connect) with no answer for this long ends as `timeout`. */
  timeoutMs: number;
  /** Honor `Connection: close` in responses. */
  compliant: boolean;
  /**
   * Mean pause between a response and the next request on the same socket, drawn from an
   * exponential distribution (so that the sockets do not move in lockstep); 0 sends back to back.
   */
  thinkMs: number;
  /** Source of randomness for the method mix and the pauses. */
  random: () => number;
}

const _HOST = "127.0.0.1";
const _CRLFCRLF = "\r\n\r\n";

function _emptyCounts(): OutcomeCounts {
  const zero = (): Record<Outcome, number> =>
    Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  return { fresh: zero(), reused: zero() };
}

/**
 * Lets the event loop run (I/O included) before the next request, as a pool that hands a socket
 * back and picks it up for the next request would. setImmediate, not setTimeout(0): in Deno 2.9
 * setTimeout(0) takes about 2 ms here (1 ms in Bun 1.4), which would idle every socket that long.
 */
function _turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What the response parser has seen so far. */
interface _Parsed {
  status: number;
  body: string;
  connectionClose: boolean;
}

/** The complete response in `text` (latin1), or undefined while it is incomplete. */
function _parse(text: string): _Parsed | undefined {
  const end = text.indexOf(_CRLFCRLF);
  if (end < 0) return undefined;
  const head = text.slice(0, end);
  const rest = text.slice(end + 4);
  const status = Number(head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
  const connectionClose = /^connection:\s*close\s*$/im.test(head);
  const length = head.match(/^content-length:\s*(\d+)\s*$/im);
  if (length) {
    const size = Number(length[1]);
    return rest.length >= size ? { status, body: rest.slice(0, size), connectionClose } : undefined;
  }
  if (/^transfer-encoding:\s*chunked\s*$/im.test(head)) {
    const body = _dechunk(rest);
    return body === undefined ? undefined : { status, body, connectionClose };
  }
  // Neither: the body ends with the connection (not expected from these servers).
  return undefined;
}

/** The decoded body once the last chunk has arrived, else undefined. */
function _dechunk(raw: string): string | undefined {
  let out = "";
  let at = 0;
  while (true) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = parseInt(raw.slice(at, eol), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return raw.startsWith("\r\n", eol + 2) ? out : undefined;
    if (raw.length < eol + 2 + size + 2) return undefined;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** The request in flight on a connection. */
interface _Pending {
  text: string;
  bytes: number;
  writtenAt: number;
  finish: (outcome: Outcome, code?: string, parsed?: _Parsed) => void;
}

/** One keep-alive connection. */
class _Connection {
  readonly id: number;
  readonly socket: net.Socket;
  readonly connectAt: number;
  /** Complete responses carried so far. */
  responses = 0;
  lastResponseAt = NaN;
  lastConnectionClose = false;
  /** FIN, reset or close seen: never write here again. */
  gone = false;
  pending: _Pending | undefined;
  #decoder = new TextDecoder("latin1");

  constructor(id: number, socket: net.Socket, connectAt: number) {
    this.id = id;
    this.socket = socket;
    this.connectAt = connectAt;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => {
      const p = this.pending;
      // Bytes with no request in flight would be a server bug; none were seen with these servers.
      if (p === undefined) return;
      p.bytes += chunk.length;
      p.text += this.#decoder.decode(chunk);
      const parsed = _parse(p.text);
      if (parsed) {
        p.finish(
          parsed.status >= 200 && parsed.status < 300 ? "ok" : "bad-response",
          undefined,
          parsed,
        );
      }
    });
    socket.on("end", () => this.#fail(undefined));
    socket.on("error", (error: Error & { code?: string }) => this.#fail(error.code ?? error.name));
    socket.on("close", () => this.#fail(undefined));
  }

  #fail(code: string | undefined): void {
    this.gone = true;
    const p = this.pending;
    if (p === undefined) return;
    // Classified by what the socket reported, not by when the write callback ran: the order of
    // the write callback and the error event is not the same in every runtime's node:net.
    if (p.bytes > 0) p.finish("partial", code);
    else if (code === undefined) p.finish("closed");
    else if (code === "EPIPE") p.finish("write-error", code);
    else p.finish(code === "ECONNRESET" ? "reset" : "closed", code);
  }

  destroy(): void {
    this.gone = true;
    this.socket.destroy();
  }
}

/**
 * The pool: `start()` it, signal the server, `stop()` it once the server has exited; `stop()`
 * returns what every request did.
 */
export class RaceClient {
  #o: RaceClientOptions;
  #result: RaceClientResult = {
    counts: _emptyCounts(),
    failed: [],
    refusedAt: [],
    okAt: [],
    okStartAt: [],
    connectionCloseAt: [],
    writesAfterConnectionClose: 0,
    closedWhileIdle: 0,
    socketsOpened: 0,
  };
  #stopping = false;
  #wake = new Set<() => void>();
  #loops: Promise<void>[] = [];
  #sockets = 0;
  #sent = 0;
  #live = new Set<_Connection>();

  constructor(options: RaceClientOptions) {
    this.#o = options;
  }

  /** Starts every slot. */
  start(): void {
    for (let slot = 0; slot < this.#o.sockets; slot++) this.#loops.push(this.#loop(slot));
  }

  /** Stops sending, lets the requests in flight end (bounded by the timeout), returns the result. */
  async stop(): Promise<RaceClientResult> {
    this.#stopping = true;
    for (const wake of this.#wake) wake();
    await Promise.all(this.#loops);
    for (const connection of this.#live) connection.destroy();
    return this.#result;
  }

  /** The pause between two requests of one slot. */
  async #think(): Promise<void> {
    const mean = this.#o.thinkMs;
    const ms = mean > 0 ? Math.min(-Math.log(1 - this.#o.random()) * mean, 10 * mean) : 0;
    // Timers fire no sooner than about 1 ms (2 ms in Deno 2.9): shorter pauses are one turn.
    if (ms < 0.5) await _turn();
    else await this.#pause(ms);
  }

  async #pause(ms: number): Promise<void> {
    if (this.#stopping) return;
    const { promise, resolve } = Promise.withResolvers<void>();
    const timer = setTimeout(resolve, ms);
    this.#wake.add(resolve);
    await promise;
    clearTimeout(timer);
    this.#wake.delete(resolve);
  }

  async #loop(slot: number): Promise<void> {
    let connection: _Connection | undefined;
    while (!this.#stopping) {
      if (connection?.gone) {
        if (connection.pending === undefined) this.#result.closedWhileIdle++;
        connection.destroy();
        this.#live.delete(connection);
        connection = undefined;
      }
      if (connection === undefined) {
        const opened = await this.#connect(slot);
        if (opened === undefined) {
          await this.#pause(this.#o.refusedRetryMs);
          continue;
        }
        connection = opened;
        this.#live.add(connection);
      }
      await this.#request(slot, connection);
      if (connection.gone || (this.#o.compliant && connection.lastConnectionClose)) {
        connection.destroy();
        this.#live.delete(connection);
        connection = undefined;
      }
      await this.#think();
    }
    if (connection) {
      connection.destroy();
      this.#live.delete(connection);
    }
  }

  /** Opens a socket; undefined (and the failure counted) when the connect fails. */
  async #connect(slot: number): Promise<_Connection | undefined> {
    const id = ++this.#sockets;
    this.#result.socketsOpened++;
    const startAt = performance.now();
    const socket = net.connect({ host: _HOST, port: this.#o.port });
    const { promise, resolve } = Promise.withResolvers<string | undefined>();
    const onError = (error: Error & { code?: string }): void => resolve(error.code ?? error.name);
    socket.once("connect", () => resolve(undefined));
    socket.once("error", onError);
    const timer = setTimeout(() => resolve("ETIMEDOUT"), this.#o.timeoutMs);
    const code = await promise;
    clearTimeout(timer);
    socket.off("error", onError);
    if (code === undefined) return new _Connection(id, socket, startAt);
    socket.on("error", () => {});
    socket.destroy();
    if (code === "ECONNREFUSED") {
      this.#result.counts.fresh.refused++;
      this.#result.refusedAt.push(performance.now());
    } else {
      this.#result.counts.fresh["connect-error"]++;
      this.#result.failed.push({
        slot,
        socket: id,
        kind: "fresh",
        previous: 0,
        method: "GET",
        outcome: "connect-error",
        code,
        bytes: 0,
        connectAt: startAt,
        startAt,
        writtenAt: NaN,
        endAt: performance.now(),
      });
    }
    return undefined;
  }

  /** Sends one request on `connection` and records how it ended. */
  async #request(slot: number, connection: _Connection): Promise<void> {
    const o = this.#o;
    const n = ++this.#sent;
    const post = o.random() < o.postShare;
    const body = post ? `${slot}:${n}:`.padEnd(o.bodyBytes, "x") : "ok";
    const request = post
      ? `POST /echo HTTP/1.1\r\nHost: ${_HOST}:${o.port}\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`
      : `GET / HTTP/1.1\r\nHost: ${_HOST}:${o.port}\r\n\r\n`;
    const previous = connection.responses;
    const previousAt = connection.lastResponseAt;
    const previousClose = connection.lastConnectionClose;
    const kind: SocketKind = previous === 0 ? "fresh" : "reused";
    if (connection.lastConnectionClose) this.#result.writesAfterConnectionClose++;
    const startAt = performance.now();
    const done = Promise.withResolvers<void>();
    const pending: _Pending = {
      text: "",
      bytes: 0,
      writtenAt: NaN,
      finish: (outcome, code, parsed) => {
        if (connection.pending !== pending) return;
        connection.pending = undefined;
        clearTimeout(timer);
        const endAt = performance.now();
        if (outcome === "ok" && parsed?.body !== body) outcome = "bad-response";
        this.#result.counts[kind][outcome]++;
        if (parsed) {
          connection.responses++;
          connection.lastResponseAt = endAt;
          connection.lastConnectionClose = parsed.connectionClose;
          if (parsed.connectionClose) this.#result.connectionCloseAt.push(endAt);
        }
        if (outcome === "ok") {
          this.#result.okAt.push(endAt);
          this.#result.okStartAt.push(startAt);
        } else {
          if (!parsed) connection.destroy();
          this.#result.failed.push({
            slot,
            socket: connection.id,
            kind,
            previous,
            method: post ? "POST" : "GET",
            outcome,
            ...(code === undefined ? {} : { code }),
            ...(parsed ? { status: parsed.status } : {}),
            bytes: pending.bytes,
            connectAt: connection.connectAt,
            startAt,
            writtenAt: pending.writtenAt,
            endAt,
            ...(kind === "reused"
              ? {
                previousResponseAt: previousAt,
                previousConnectionClose: previousClose,
              }
              : {}),
          });
        }
        done.resolve();
      },
    };
    connection.pending = pending;
    const timer = setTimeout(() => {
      pending.finish("timeout");
      connection.destroy();
    }, o.timeoutMs);
    connection.socket.write(request, (error?: Error | null) => {
      if (!error && connection.pending === pending) pending.writtenAt = performance.now();
    });
    await done.promise;
  }
}
