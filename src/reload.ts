// Hot module reloading (`bun --hot`): the module runs again in the same process, globalThis
// survives, and Bun.serve on the same address returns the server it already runs (reloaded in
// place). This registry lets the instance of a reloaded module replace the one before it. It
// lives on globalThis because the library's own module may be evaluated again too, and it is
// touched only when a server is started or attached, never per request.

/** What an instance is replaced by: the shutdown that its callers now get. */
export interface _Successor {
  shutdown: (...args: never[]) => unknown;
}

/** Ends an instance's hold on the process (signals, exit) in favour of `next`. */
export type _Retire = (next: _Successor) => void;

const _KEY = Symbol.for("@graceful/serve.instances");

interface _Owner {
  instance: _Successor;
  retire: _Retire;
}

function _owners(): WeakMap<object, _Owner> {
  const g = globalThis as { [_KEY]?: WeakMap<object, _Owner> };
  return g[_KEY] ??= new WeakMap();
}

/**
 * Makes `instance` the owner of `key` (a runtime server, or the process for a default export),
 * retiring the instance that owned it before (not itself: attaching a server twice). Returns
 * whether one was replaced.
 */
export function _replaceInstance(key: object, instance: _Successor, retire: _Retire): boolean {
  const owners = _owners();
  const previous = owners.get(key);
  owners.set(key, { instance, retire });
  // Another copy of the library in the process may have left an entry of another shape.
  if (typeof previous?.retire !== "function" || previous.instance === instance) return false;
  previous.retire(instance);
  return true;
}

/** Forgets `key`'s owner once that instance finished, if it still owns it. */
export function _releaseInstance(key: object, retire: _Retire): void {
  const owners = _owners();
  if (owners.get(key)?.retire === retire) owners.delete(key);
}
