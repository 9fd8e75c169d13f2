// WebSockets on Bun: the user's `websocket` handlers are wrapped so that every socket is tracked
// from `open` until its `close` handler is done. User code does not change.

/** The part of Bun's `ServerWebSocket` the library uses. */
export interface _BunWebSocketLike {
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** The part of Bun's `websocket` handlers the library wraps. */
interface _BunHandlers {
  open?: (this: unknown, ws: _BunWebSocketLike) => unknown;
  close?: (this: unknown, ws: _BunWebSocketLike, code: number, reason: string) => unknown;
}

/**
 * Wraps Bun's `websocket` handlers: `opened` runs before the user's `open`, and `closed` once the
 * user's `close` has returned (or its promise settled). Everything else is passed as it is.
 */
export function _bunWebSocketHandlers<T extends object>(
  handlers: T,
  opened: (ws: _BunWebSocketLike) => void,
  closed: (ws: _BunWebSocketLike) => void,
): T {
  const { open, close } = handlers as _BunHandlers;
  const wrapped: _BunHandlers = {
    open(ws) {
      opened(ws);
      return open?.call(this, ws);
    },
    close(ws, code, reason) {
      let result: unknown;
      try {
        result = close?.call(this, ws, code, reason);
      } catch (error) {
        closed(ws);
        throw error;
      }
      if (result instanceof Promise) {
        return result.finally(() => closed(ws));
      }
      closed(ws);
      return result;
    },
  };
  return { ...handlers, ...wrapped };
}
