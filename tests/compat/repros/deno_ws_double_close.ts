// Deno.upgradeWebSocket: a close started by the server, answered by the client.
//
//   node_modules/deno/deno run -A tests/compat/repros/deno_ws_double_close.ts [<deno binary>]
//   node_modules/deno/deno run -A tests/compat/repros/deno_ws_double_close.ts [<deno binary>] --chromium
//
// A raw Deno.serve server (no library) upgrades one request; on SIGUSR2 it calls
// socket.close(1001, "going away"). The client answers the close frame with its own (RFC 6455
// 5.5.1) and records every byte the server sends afterwards. With --chromium the client is
// Chromium (/usr/bin/chromium, through playwright-core) and the result is its close event.
//
// Deno 2.9.5: one close frame, then FIN; Chromium reports 1001 "going away", wasClean true.
// Deno 2.5.7 and 2.2.15: after the client's reply the server sends a SECOND close frame
// (88 02 03 e9: 1001, no reason), echoing the reply, then FIN. Chromium fails the connection
// ("Close received after close"): its close event is 1006, wasClean false. Deno's and Bun's own
// WebSocket clients tolerate it (they report 1001). Also 2.5.0; gone in 2.6.8 and later. Known as
// denoland/deno#21642 (fastwebsockets answers every close frame, including the reply to its own;
// an earlier attempt at a fix: denoland/deno#22684).
//
// In the library: browser_test "Chromium's WebSocket gets the goodbye and close 1001" fails on
// 2.5.7 (and 2.2.15) with '1006  clean=false' although the demo closed the socket with 1001.

import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { binaryFor, isServer, log, RawClient, sleep, startServer, versionOf } from "./_repro.ts";

if (isServer()) {
  const sockets = new Set<WebSocket>();
  Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, (request) => {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("<!doctype html><title>ws</title>", {
        headers: { "content-type": "text/html" },
      });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    sockets.add(socket);
    socket.onmessage = (event) => socket.send(`echo: ${event.data}`);
    socket.onclose = (event) => console.log(`server close event ${event.code}`);
    return response;
  });
  Deno.addSignalListener("SIGUSR2", () => {
    for (const socket of sockets) socket.close(1001, "going away");
  });
} else {
  const binary = binaryFor("deno");
  const version = versionOf("deno", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("deno", binary, fileURLToPath(import.meta.url));
  if (process.argv.includes("--chromium")) {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu"],
    });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.evaluate(() => {
      const page = globalThis as unknown as { wsClosed: Promise<string>; wsOpen: Promise<void> };
      const socket = new WebSocket(`ws://${location.host}/`);
      page.wsOpen = new Promise((resolve) => (socket.onopen = () => resolve()));
      page.wsClosed = new Promise((resolve) => {
        socket.onclose = (e) => resolve(`${e.code} "${e.reason}" wasClean=${e.wasClean}`);
      });
    });
    await page.evaluate(() => (globalThis as unknown as { wsOpen: Promise<void> }).wsOpen);
    server.signal("SIGUSR2");
    const closed = await page.evaluate(() =>
      (globalThis as unknown as { wsClosed: Promise<string> }).wsClosed
    );
    console.log(
      `RESULT ${version}: Chromium's close event after the server's close(1001): ${closed}`,
    );
    await browser.close();
  } else {
    const client = await RawClient.connect(server.port, "client");
    client.write(
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    await sleep(300);
    const headEnd = client.received.indexOf("\r\n\r\n") + 4;
    server.signal("SIGUSR2");
    await sleep(200);
    const first = client.received.subarray(headEnd);
    log(`server's frames after close(1001): ${first.toString("hex")}`);
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from([0x03, 0xe9]).map((byte, i) => byte ^ mask[i % 4]!);
    client.write(Buffer.concat([Buffer.from([0x88, 0x82]), mask, payload]));
    log("client: sent its close reply (1001)");
    await sleep(500);
    const after = client.received.subarray(headEnd + first.length);
    log(`server's bytes after the client's reply: ${after.toString("hex") || "(none)"}`);
    console.log(
      `RESULT ${version}: after the client's close reply the server sent ${
        after.length > 0 && after[0] === 0x88 ? "a second close frame" : "no further frame"
      }, then ${client.fin ? "FIN" : "no FIN"}`,
    );
    client.destroy();
  }
  server.signal("SIGKILL");
  process.exit(0);
}
