import { createRequire } from 'node:module';
import type * as Undici from 'undici';

/**
 * undici, loaded on first use. An idle server has made no outbound request (webhook deliveries,
 * IdP discovery, JWKS and token calls, SAML metadata), and undici is the largest package it would
 * otherwise hold for nothing: ~1.1 MB of source, ~6 MB of heap. undici is CommonJS, so `require`
 * keeps the first use synchronous: an agent is built where the first request goes through it.
 */
const load = createRequire(import.meta.url);
let undici: typeof Undici | undefined;

export function loadUndici(): typeof Undici {
  return (undici ??= load('undici') as typeof Undici);
}

/** undici's `request`, loading undici on its first call. */
export const request = ((...args: Parameters<typeof Undici.request>) => loadUndici().request(...args)) as typeof Undici.request;

/**
 * A dispatcher that `make` builds on its first use (a request through it). Closing or destroying
 * one that was never used resolves at once, without loading undici.
 */
export function lazyDispatcher<D extends Undici.Dispatcher>(make: (u: typeof Undici) => D): D {
  let real: D | undefined;
  const unused = (cb?: unknown) => {
    if (typeof cb === 'function') (cb as () => void)();
    return Promise.resolve();
  };
  return new Proxy(Object.create(null) as D, {
    get(_target, key) {
      if (!real && (key === 'close' || key === 'destroy')) return unused;
      if (!real && key === 'then') return undefined; // not a thenable: `await agent` must not build it
      const d = (real ??= make(loadUndici()));
      const v: unknown = Reflect.get(d, key, d);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(d) : v;
    },
  });
}
