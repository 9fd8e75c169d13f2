// WebSockets at shutdown, with real processes and the runtimes' own WebSocket clients: every
// socket is told to go away with 1001 after the stream grace, the close handshake is awaited,
// and a client that never answers it cannot hold the process past the deadline.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import net from "node:net";
import { after, afterEach, describe, it } from "node:test";
import {
  cleanup,
  PINNED_BINARIES,
  ROOT,
  runtimeLabel,
  type RuntimeName,
  RUNTIMES,
  startDemo,
  within,
} from "./_harness.ts";

const BOUNDED = { timeout: 20_000 };
/** The clients run on both pinned releases, whatever release the servers run on. */
const CLIENT_RUNTIMES: RuntimeName[] = ["deno", "bun"];
const CLIENT_COMMANDS: Record<RuntimeName, string[]> = {
  deno: [PINNED_BINARIES.deno, "run", "--allow-net", "--allow-env"],
  bun: [PINNED_BINARIES.bun],
};

/** What the client script saw on one socket. */
interface SocketEvents {
  messages: string[];
  close?: { code: number; reason: string; clean: boolean };
  error?: boolean;
}

/** A WebSocket client child process (tests/integration/_ws_client.ts) on `runtime`. */
interface WsClient {
  /** Resolves once every socket got the echo of its first message. */
  ready: Promise<void>;
  /** Resolves with each socket's events once the client exited. */
  done: Promise<SocketEvents[]>;
}

function startClient(runtime: RuntimeName, url: string, sockets: number): WsClient {
  const [command, ...args] = CLIENT_COMMANDS[runtime];
  const child = spawn(
    command!,
    [...args, "tests/integration/_ws_client.ts", url, String(sockets)],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const events: SocketEvents[] = Array.from({ length: sockets }, () => ({ messages: [] }));
  let stdout = "";
  let stderr = "";
  const ready = Promise.withResolvers<void>();
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (text: string) => (stderr += text));
  child.stdout!.on("data", (text: string) => {
    stdout += text;
    if (/^ready$/m.test(stdout)) ready.resolve();
  });
  const done = new Promise<SocketEvents[]>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      for (const line of stdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        const event = JSON.parse(line);
        const target = events[event.socket]!;
        if ("message" in event) target.messages.push(event.message);
        else if ("code" in event) target.close = event;
        else target.error = true;
      }
      if (code !== 0) reject(new Error(`${runtime} client exited ${code}: ${stderr}`));
      else resolve(events);
    });
  });
  done.catch(() => ready.reject(new Error(`client ended before ready: ${stdout}${stderr}`)));
  return { ready: ready.promise, done };
}

/** What a raw client that never answers the close handshake received. */
interface RawWs {
  /** Resolves with every byte received once the server ended the connection. */
  ended: Promise<Buffer>;
}

/** Upgrades a raw TCP connection to a WebSocket and then reads, never answering anything. */
async function rawSocketThatNeverAnswers(port: number): Promise<RawWs> {
  const socket = net.connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  const upgraded = Promise.withResolvers<void>();
  const ended = new Promise<Buffer>((resolve) => {
    socket.on("close", () => resolve(Buffer.concat(chunks)));
  });
  socket.on("error", () => {});
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    if (Buffer.concat(chunks).includes("\r\n\r\n")) upgraded.resolve();
  });
  socket.on("connect", () => {
    socket.write(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
  });
  await within(upgraded.promise, 5_000, "the 101 response");
  assert.match(Buffer.concat(chunks).toString("latin1"), /^HTTP\/1\.1 101 /);
  return { ended };
}

/** The close code of the first close frame (opcode 8) in server-to-client frames after the 101. */
function closeCode(bytes: Buffer): number | undefined {
  let at = bytes.indexOf("\r\n\r\n") + 4;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      header = 4;
    }
    if (opcode === 8) return length >= 2 ? bytes.readUInt16BE(at + header) : undefined;
    at += header + length;
  }
  return undefined;
}

for (const runtime of RUNTIMES) {
  describe(`${runtimeLabel(runtime)}: WebSockets`, () => {
    afterEach(cleanup);
    after(cleanup);

    for (const clientRuntime of CLIENT_RUNTIMES) {
      it(
        `${clientRuntime} WebSocket clients get the goodbye, then close 1001, and the demo exits 0`,
        BOUNDED,
        async () => {
          const demo = await startDemo(runtime);
          const client = startClient(clientRuntime, `ws://127.0.0.1:${demo.port}/ws`, 3);
          await within(client.ready, 5_000, "the clients' echoes");
          const signalledAt = demo.kill("SIGTERM");
          const exit = await demo.waitForExit(5_000);
          const sockets = await within(client.done, 5_000, "the clients to see the close");

          for (const [i, socket] of sockets.entries()) {
            assert.deepEqual(socket.messages, ["server is shutting down"], `socket ${i}`);
            assert.deepEqual(
              socket.close,
              { socket: i, code: 1001, reason: "server shutting down", clean: true },
              `socket ${i}: ${demo.stderr()}`,
            );
          }
          assert.equal(exit.code, 0, demo.stderr());
          // After the 250 ms stream grace, and well before the 10 s deadline.
          const exitedAfter = exit.at - signalledAt;
          assert.ok(exitedAfter >= 200 && exitedAfter < 3_000, `exited after ${exitedAfter} ms`);
          assert.match(demo.stderr(), /closing 3 WebSocket\(s\) with 1001/);
          assert.match(demo.stderr(), /3 completed, 0 cut/);
          assert.equal(demo.stderr().match(/\[demo\] \/ws closed with 1001/g)?.length, 3);
        },
      );
    }

    it(
      "a client that never answers the close handshake does not hold the process past the deadline",
      BOUNDED,
      async () => {
        const demo = await startDemo(runtime, { SHUTDOWN_TIMEOUT_MS: "2000" });
        const raw = await rawSocketThatNeverAnswers(demo.port);
        const signalledAt = demo.kill("SIGTERM");
        const exit = await demo.waitForExit(6_000);
        const bytes = await within(raw.ended, 3_000, "the connection to end");

        assert.equal(
          closeCode(bytes),
          1001,
          `a close frame with 1001: ${bytes.toString("latin1")}`,
        );
        const exitedAfter = exit.at - signalledAt;
        assert.ok(exitedAfter < 4_000, `exited ${exitedAfter} ms after SIGTERM`);
        if (runtime === "deno") {
          // Deno waits for the client's close frame: the socket is dropped at the deadline.
          assert.ok(exitedAfter >= 1_900, `exited ${exitedAfter} ms after SIGTERM`);
          assert.equal(exit.code, 1, demo.stderr());
          assert.match(demo.stderr(), /and 1 WebSocket\(s\)/);
          assert.match(demo.stderr(), /0 completed, 1 cut/);
        } else {
          // Bun 1.4 (uWebSockets) ends the TCP connection right after its close frame.
          assert.equal(exit.code, 0, demo.stderr());
          assert.match(demo.stderr(), /1 completed, 0 cut/);
        }
      },
    );

    for (const mode of ["serve", "graceful"]) {
      it(
        `${mode}(): sockets of the runtime's own API are counted and closed with 1001`,
        BOUNDED,
        async () => {
          const server = await startDemo(runtime, { MODE: mode }, {
            script: "tests/integration/_ws_plain_server.ts",
          });
          const client = startClient(runtime, `ws://127.0.0.1:${server.port}/ws`, 2);
          await within(client.ready, 5_000, "the clients' echoes");
          const count = await (await fetch(`http://127.0.0.1:${server.port}/count`)).json();
          // Two sockets, plus the /count request itself.
          assert.deepEqual(count, { inFlight: 3, webSockets: 2 });
          server.kill("SIGTERM");
          const exit = await server.waitForExit(5_000);
          const sockets = await within(client.done, 5_000, "the clients to see the close");
          for (const socket of sockets) {
            assert.equal(socket.close?.code, 1001, server.stderr());
            assert.equal(socket.close?.clean, true);
          }
          assert.equal(exit.code, 0, server.stderr());
        },
      );
    }
  });
}
