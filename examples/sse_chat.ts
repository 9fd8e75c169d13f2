// A chat over Server-Sent Events with its browser page: restart the server and the page
// reconnects by itself. At SIGTERM every open stream gets a last `restart` event with `retry:
// 1000`, ends cleanly, and the browser's EventSource reconnects a second later, to the new
// instance (or to another one behind a load balancer). Messages live in memory only: a restart
// forgets them, which the page shows.
//
//   deno run --allow-net --allow-env examples/sse_chat.ts
//   bun examples/sse_chat.ts
//
// Open http://localhost:8000 in two tabs, write something, then stop the server (Ctrl-C) and
// start it again: the tabs say "server restarting", then "connected" again.
// Environment: PORT (8000; 0 = any free port), HOSTNAME (127.0.0.1).

import process from "node:process";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { lifecycle, serve } from "../mod.ts"; // "@graceful/serve"
import { type GracefulVariables, health, shutdownSignal } from "../src/hono.ts"; // "@graceful/serve/hono"

const life = lifecycle();
const app = new Hono<{ Variables: GracefulVariables }>();
app.use(health(life));
app.use("/events", shutdownSignal(life));

/** The open streams; every message posted goes to each. */
const room = new Set<(text: string) => void>();
let nextId = 0;

app.get("/", (c) => c.html(PAGE));

app.post("/messages", async (c) => {
  const text = (await c.req.text()).slice(0, 500).trim();
  if (text === "") return c.text("empty message\n", 400);
  for (const send of room) send(text);
  return c.body(null, 204);
});

app.get("/events", (c) =>
  streamSSE(c, async (stream) => {
    const signal = c.var.shutdown;
    const forward = (text: string): void => {
      stream.writeSSE({ id: String(nextId++), event: "message", data: text });
    };
    // Bun closes a connection silent for ~10 s (its idleTimeout): a comment every 5 s keeps it.
    const heartbeat = setInterval(() => stream.write(": ping\n\n"), 5_000);
    room.add(forward);
    try {
      await stream.writeSSE({ event: "hello", data: "connected", retry: 1000 });
      // Wait for the shutdown or for the client to leave.
      if (!signal.aborted) {
        await new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => resolve(), { once: true });
          stream.onAbort(resolve);
        });
      }
      // Our own last event; without it the library would end the stream after `streamGrace`
      // with its default final frame (`retry: 1000`), and the page would reconnect all the same.
      if (!stream.aborted) {
        await stream.writeSSE({ event: "restart", data: "server restarting", retry: 1000 });
      }
    } finally {
      clearInterval(heartbeat);
      room.delete(forward);
    }
  }));

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>graceful chat</title>
<p id="status">connecting…</p>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>send</button></form>
<ul id="log"></ul>
<script>
  const status = document.getElementById("status");
  const log = document.getElementById("log");
  const add = (text) => log.appendChild(document.createElement("li")).textContent = text;
  // EventSource reconnects by itself, after the delay of the last "retry:" it received.
  const events = new EventSource("/events");
  events.addEventListener("hello", () => (status.textContent = "connected"));
  events.addEventListener("message", (event) => add(event.data));
  events.addEventListener("restart", () => {
    status.textContent = "server restarting, reconnecting…";
    add("— server restarted; earlier messages were in its memory only —");
  });
  events.onerror = () => (status.textContent = "reconnecting…");
  document.getElementById("form").onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    fetch("/messages", { method: "POST", body: input.value });
    input.value = "";
  };
</script>
`;

serve(app, {
  port: process.env.PORT ?? 8000,
  hostname: process.env.HOSTNAME || "127.0.0.1",
  lifecycle: life,
  onListen: ({ url }) => console.log(`listening on ${url.origin}`),
});
