import { isJoseError, loadJose } from '../lib/lazy-jose.js';
import type { SigningKeys } from './keys.js';
import { ssoIssuer, ssoLoginUrl } from './urls.js';

/**
 * The broker's side of the console's own sign-ins through a tenant's IdP: the console is one more
 * client of the broker, whose redirect URIs are idpbridge's own console URLs (accepted without
 * registration: they are not the host product's) and which receives the same idpbridge token.
 * Two purposes: `sign-in` (a tenant admin signs in to the console) and `test` (an admin checks
 * that sign-in works and sees who it resolved). The console floor may not import the broker, so it
 * gets this object on AppDeps (`deps.sso.console`).
 */
export type ConsolePurpose = 'sign-in' | 'test';

/** What the console reads from a verified token. */
export interface ConsoleSignedIn {
  identityId: string;
  userName: string;
  displayName: string | null;
  status: string;
  datasets: string[];
  accessGroups: string[];
  groups: string[];
  roles: string[];
}

export interface ConsoleBroker {
  /** Where the console sends the browser to sign in to `tenantId`. */
  loginUrl(base: string, tenantId: string, purpose: ConsolePurpose, state: string): string;
  /** Verifies the token the broker sent to the console: signed by idpbridge, this tenant's issuer, this purpose's URL as audience. */
  verify(base: string, tenantId: string, purpose: ConsolePurpose, token: string): Promise<ConsoleSignedIn | { problem: string }>;
}

/** idpbridge's own console callbacks: the only redirect URIs the broker accepts without registration. */
export const consoleCallbackUrl = (base: string, purpose: ConsolePurpose) =>
  `${base}/console/api/sso/${purpose === 'sign-in' ? 'callback' : 'test-callback'}`;

export const isConsoleCallback = (base: string, uri: string | undefined) =>
  uri === consoleCallbackUrl(base, 'sign-in') || uri === consoleCallbackUrl(base, 'test');

interface Claims {
  tenant?: string;
  identity?: { id: string; userName: string; displayName: string | null; status: string };
  datasets?: { name: string }[];
  accessGroups?: { name: string }[];
  groups?: { displayName: string }[];
  roles?: string[];
}

export function consoleBroker(keys: SigningKeys): ConsoleBroker {
  return {
    loginUrl(base, tenantId, purpose, state) {
      const u = new URL(ssoLoginUrl(base, tenantId));
      u.searchParams.set('redirect_uri', consoleCallbackUrl(base, purpose));
      u.searchParams.set('state', state);
      return u.href;
    },
    async verify(base, tenantId, purpose, token) {
      let payload: Claims;
      try {
        const { createLocalJWKSet, jwtVerify } = await loadJose();
        ({ payload } = await jwtVerify<Claims>(token, createLocalJWKSet(await keys.jwks()), {
          issuer: ssoIssuer(base, tenantId), audience: consoleCallbackUrl(base, purpose), requiredClaims: ['exp', 'sub'],
        }));
      } catch (err) {
        return { problem: isJoseError(err, 'JOSEError') ? err.code : 'the token could not be read' };
      }
      const i = payload.identity;
      if (payload.tenant !== tenantId.toLowerCase() || !i?.userName) return { problem: 'the token names another tenant or no identity' };
      return {
        identityId: i.id, userName: i.userName, displayName: i.displayName ?? null, status: i.status,
        datasets: (payload.datasets ?? []).map((d) => d.name), accessGroups: (payload.accessGroups ?? []).map((a) => a.name),
        groups: (payload.groups ?? []).map((g) => g.displayName), roles: payload.roles ?? [],
      };
    },
  };
}
