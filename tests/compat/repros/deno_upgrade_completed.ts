// Deno.serve: does `info.completed` settle for a request answered with Deno.upgradeWebSocket's 101?
//
//   node_modules/deno/deno run -A tests/compat/repros/deno_upgrade_completed.ts [<deno binary>]
//
// A raw Deno.serve server (no library) upgrades one request and logs when its `info.completed`
// settles. The client (raw TCP, on the driver) completes the handshake; on SIGUSR2 the server
// closes the socket with 1001, the client answers the close, and the server calls shutdown().
//
// Deno 2.9.5 and 2.5.7: `completed` resolves right after the 101 is sent.
// Deno 2.2.15: `completed` never settles, not after the close handshake, not after shutdown()
// resolved, not after the TCP connection closed. Also 2.3.7, 2.4.4 and 2.5.0; settles from some
// 2.5 patch release on (2.5.7). No upstream issue found.
//
// In the library (which ends a Deno request when its `completed` settles) the upgrade request
// stays in flight for ever on 2.2.15: every WebSocket test waits for it until the deadline
// ("1 request(s) (0 running) still in flight"), the demo exits 1 at the deadline, counts the
// request as cut, and /count reports 2 in flight per socket instead of 1.

import { Buffer } from "node:buffer";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { binaryFor, isServer, log, RawClient, sleep, startServer, versionOf } from "./_repro.ts";

if (isServer()) {
  let socket: WebSocket | undefined;
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: ({ port }) => console.log(`listening ${port}`),
  }, (request, info) => {
    const upgraded = Deno.upgradeWebSocket(request);
    socket = upgraded.socket;
    socket.onclose = (event) => {
      console.log(`socket close event ${event.code}`);
      server.shutdown().then(() => console.log("shutdown() resolved"));
    };
    info.completed.then(
      () => console.log("info.completed resolved"),
      (error) => console.log(`info.completed rejected: ${error}`),
    );
    return upgraded.response;
  });
  Deno.addSignalListener("SIGUSR2", () => socket?.close(1001, "going away"));
} else {
  const binary = binaryFor("deno");
  const version = versionOf("deno", binary);
  log(`server on ${version} (${binary})`);
  const server = await startServer("deno", binary, fileURLToPath(import.meta.url));
  const client = await RawClient.connect(server.port, "client");
  client.write(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  await sleep(300);
  log(`handshake: ${client.text.split("\r\n")[0]}`);
  const completedAfterUpgrade = await server.waitFor("info.completed", 0);
  server.signal("SIGUSR2");
  await sleep(200);
  // The client's close reply: a masked close frame, code 1001.
  const mask = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from([0x03, 0xe9]).map((byte, i) => byte ^ mask[i % 4]!);
  client.write(Buffer.concat([Buffer.from([0x88, 0x82]), mask, payload]));
  await sleep(1_000);
  const completedAtEnd = await server.waitFor("info.completed", 0);
  log(`TCP connection closed: ${!client.open}`);
  console.log(
    `RESULT ${version}: info.completed of the 101 ${
      completedAfterUpgrade
        ? "settled right after the upgrade"
        : completedAtEnd
        ? "settled only after the close"
        : "never settled (not after the close handshake, shutdown() or the TCP close)"
    }`,
  );
  client.destroy();
  server.signal("SIGKILL");
  process.exit(0);
}
