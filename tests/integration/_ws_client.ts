// A WebSocket client run as a child process on Deno or Bun, with the runtime's own WebSocket:
//   deno run --allow-net tests/integration/_ws_client.ts <ws-url> <sockets>
//   bun tests/integration/_ws_client.ts <ws-url> <sockets>
// Opens the sockets, sends "hi" on each, prints `ready` once every one got its echo, then prints
// one JSON line per message and per close, and exits once every socket closed.

import process from "node:process";

const [url, count = "1"] = process.argv.slice(2);
if (url === undefined) throw new TypeError("usage: _ws_client.ts <ws-url> [sockets]");
const total = Number(count);
let echoed = 0;
let closed = 0;
for (let i = 0; i < total; i++) {
  const socket = new WebSocket(url);
  socket.onopen = () => socket.send("hi");
  socket.onmessage = (event) => {
    const data = String(event.data);
    if (data === "echo: hi") {
      if (++echoed === total) console.log("ready");
      return;
    }
    console.log(JSON.stringify({ socket: i, message: data }));
  };
  socket.onclose = (event) => {
    console.log(
      JSON.stringify({ socket: i, code: event.code, reason: event.reason, clean: event.wasClean }),
    );
    if (++closed === total) process.exit(0);
  };
  socket.onerror = () => console.log(JSON.stringify({ socket: i, error: true }));
}
