import { createRequire } from 'node:module';

// Optional subsystems (database auth, metrics, WebSocket clients) are built in
// synchronous constructors, so they can't `await import()` their library; they
// load it with require() on first use instead of at start, which keeps
// `import 'heron-mqtt'` and an idle broker from paying for what they don't use.

const load = createRequire(import.meta.url);

/** Loads a CommonJS-compatible package the first time it is needed (then Node's cache answers). */
export function lazyRequire<T>(name: string): T {
  return load(name) as T;
}
