// WebSockets on Deno: sockets made by `Deno.upgradeWebSocket` (by user code or by Hono's
// `upgradeWebSocket`) are remembered by their request, so that the response path can track them
// when the handler returns the 101 response. User code does not change.

import type { _Socket } from "../../in_flight.ts";
import type { _DenoLike } from "./adapter.ts";

// Sockets by the request they upgrade, until the server whose handler returned the 101 takes its
// own (requests are never shared between servers).
const _upgraded = new WeakMap<Request, WebSocket>();
const _TRACKING = Symbol("graceful.upgradeWebSocket");

/**
 * Makes `Deno.upgradeWebSocket` remember each socket by its request. Idempotent. Deno 2.9:
 * `upgradeWebSocket` is an accessor with a setter (replaceable).
 */
export function _trackDenoUpgrades(deno: _DenoLike): void {
  const original = deno.upgradeWebSocket;
  if (typeof original !== "function" || _TRACKING in original) return;
  const upgradeWebSocket = (request: Request, options?: object) => {
    const result = original.call(deno, request, options);
    _upgraded.set(request, result.socket);
    return result;
  };
  Object.defineProperty(upgradeWebSocket, _TRACKING, { value: true });
  deno.upgradeWebSocket = upgradeWebSocket;
}

/** The socket `Deno.upgradeWebSocket` made for `request`, once. */
export function _takeDenoSocket(request: Request): WebSocket | undefined {
  const socket = _upgraded.get(request);
  if (socket !== undefined) _upgraded.delete(request);
  return socket;
}

/** The tracker's handle on a Deno socket; `onClose` runs once the socket closed. */
export function _denoSocket(socket: WebSocket, onClose: (handle: _Socket) => void): _Socket {
  const handle: _Socket = {
    close(code, reason) {
      // Deno 2.9: close() on a socket whose 101 response was not sent yet throws.
      if (socket.readyState === WebSocket.CONNECTING) {
        socket.addEventListener("open", () => socket.close(code, reason), { once: true });
      } else if (socket.readyState === WebSocket.OPEN) {
        socket.close(code, reason);
      }
    },
    // Deno 2.9 cannot drop one socket; closing the listener (shutdown()) drops them all.
    terminate() {},
  };
  socket.addEventListener("close", () => onClose(handle), { once: true });
  return handle;
}
