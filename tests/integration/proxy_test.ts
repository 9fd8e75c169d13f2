// Proxying through a graceful server, with real processes: the upstream fetch gets the
// client-gone signal (clientSignal), so a SIGTERM lets proxied requests and streams finish whole,
// while a client that leaves stops its upstream request.

import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { cleanup, runtimeLabel, RUNTIMES, sleep, startDemo, within } from "./_harness.ts";

const BOUNDED = { timeout: 15_000 };
const SCRIPT = "tests/fixtures/proxy_server.ts";
const STREAM_TEXT = Array.from({ length: 10 }, (_, i) => `chunk ${i}\n`).join("");

/** An upstream request as the upstream saw it end. */
interface Seen {
  path: string;
  /** Resolves with true once the response was written whole, false when the connection closed first. */
  finished: Promise<boolean>;
}

/**
 * The upstream: GET /slow?ms=N answers `slow N` after N ms; GET /stream writes STREAM_TEXT, one
 * line every 100 ms.
 */
class Upstream {
  readonly seen: Seen[] = [];
  #server: Server = createServer((request, response) => this.#handle(request, response));
  #arrivals = new Set<() => void>();

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Resolves once `count` requests arrived in all. */
  arrived(count: number): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (this.seen.length < count) return;
          this.#arrivals.delete(check);
          resolve();
        };
        this.#arrivals.add(check);
        check();
      }),
      5_000,
      `${count} upstream request(s)`,
    );
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://upstream");
    const finished = new Promise<boolean>((resolve) => {
      response.on("close", () => resolve(response.writableFinished));
    });
    this.seen.push({ path: url.pathname, finished });
    for (const check of [...this.#arrivals]) check();
    const timers: ReturnType<typeof setTimeout>[] = [];
    response.on("close", () => timers.forEach(clearTimeout));
    if (url.pathname === "/slow") {
      const ms = Number(url.searchParams.get("ms") ?? "800");
      timers.push(setTimeout(() => response.end(`slow ${ms}`), ms));
      return;
    }
    response.writeHead(200, { "content-type": "text/plain" });
    STREAM_TEXT.split(/(?<=\n)/).forEach((line, i) => {
      timers.push(setTimeout(() => {
        response.write(line);
        if (i === 9) response.end();
      }, 100 * i));
    });
  }
}

for (const runtime of RUNTIMES) {
  describe(`${runtimeLabel(runtime)}: proxying with clientSignal`, () => {
    const upstream = new Upstream();
    let origin = "";
    before(async () => {
      origin = await upstream.start();
    });
    afterEach(cleanup);
    after(async () => {
      cleanup();
      await upstream.stop();
    });

    it(
      "delivers a proxied request and a proxied stream in flight at SIGTERM whole, then exits 0",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime, { UPSTREAM: origin }, { script: SCRIPT });
        const before = upstream.seen.length;
        const base = `http://127.0.0.1:${demo.port}/proxy`;
        const slow = fetch(`${base}/slow?ms=800`).then(async (r) => [r.status, await r.text()]);
        const stream = fetch(`${base}/stream`).then(async (r) => [r.status, await r.text()]);
        await upstream.arrived(before + 2);
        await sleep(150); // the stream is under way, the slow answer still to come
        demo.kill("SIGTERM");
        assert.deepEqual(await slow, [200, "slow 800"]);
        assert.deepEqual(await stream, [200, STREAM_TEXT]);
        const exit = await demo.waitForExit(5_000);
        assert.equal(exit.code, 0, demo.stderr());
        assert.doesNotMatch(demo.stderr(), /ShutdownError|cut: [1-9]|[1-9] cut/);
      },
    );

    it("stops the upstream request when its client leaves", BOUNDED, async () => {
      const demo = await startDemo(runtime, { UPSTREAM: origin }, { script: SCRIPT });
      const before = upstream.seen.length;
      const client = new AbortController();
      const answer = fetch(`http://127.0.0.1:${demo.port}/proxy/slow?ms=3000`, {
        signal: client.signal,
      }).catch((error: Error) => error);
      await upstream.arrived(before + 1);
      client.abort();
      assert.ok((await answer) instanceof Error);
      const finished = await within(upstream.seen[before]!.finished, 2_000, "the upstream close");
      assert.equal(finished, false, "the upstream request was closed before its answer");
      demo.kill("SIGTERM");
      assert.equal((await demo.waitForExit(5_000)).code, 0, demo.stderr());
    });
  });
}
