import type * as Jose from 'jose';

/**
 * jose, loaded on first use. An idle server has verified and signed no token (IdP tokens on /v1,
 * the sign-in broker and its signing keys, the console's callback), and jose is ~0.5 MB of source
 * and ~0.7 MB of heap it would otherwise hold for nothing. Every use of it is in an async path, so
 * the first one loads it with `import()`.
 */
let jose: typeof Jose | undefined;

export async function loadJose(): Promise<typeof Jose> {
  return (jose ??= await import('jose'));
}

type JoseErrors = typeof Jose.errors;

/**
 * Whether `err` is jose's error `name`. Before jose is loaded no error can be one of its, so
 * asking does not load it (an error mapper also sees errors of the code around its jose calls).
 */
export function isJoseError<K extends keyof JoseErrors>(err: unknown, name: K): err is InstanceType<JoseErrors[K]> {
  return jose !== undefined && err instanceof jose.errors[name];
}
