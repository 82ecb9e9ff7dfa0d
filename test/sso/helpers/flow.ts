/** Drives a sign-in over plain HTTP (no browser): a cookie jar and manual redirects. */

export class CookieJar {
  // Cookies are per host (not per port), as in browsers; paths are ignored (enough for these tests).
  private readonly byHost = new Map<string, Map<string, string>>();

  header(url: string): string {
    const m = this.byHost.get(new URL(url).hostname);
    return m ? [...m].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  store(url: string, res: Response): void {
    const host = new URL(url).hostname;
    let m = this.byHost.get(host);
    if (!m) this.byHost.set(host, (m = new Map()));
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) m.delete(name);
      else m.set(name, value);
    }
  }

  drop(namePrefix: string): void {
    for (const m of this.byHost.values()) for (const k of [...m.keys()]) if (k.startsWith(namePrefix)) m.delete(k);
  }
}

export async function request(jar: CookieJar, url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(url, {
    method: init.method ?? 'GET', headers, redirect: 'manual', ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
  jar.store(url, res);
  return res;
}

const location = (res: Response, from: string) => {
  const l = res.headers.get('location');
  if (!l) throw new Error(`expected a redirect from ${from}, got ${res.status}`);
  return new URL(l, from).href;
};

/**
 * GET /sso/{tenant}/login, then the IdP's login page with these credentials, up to (not including)
 * the callback. Returns the callback URL the IdP sent the browser to.
 */
export async function signInAtIdp(jar: CookieJar, loginUrl: string, login: string, password: string): Promise<{ callbackUrl: string; authorizeUrl: string }> {
  const start = await request(jar, loginUrl);
  if (start.status !== 302) throw new Error(`login → ${start.status} ${await start.text()}`);
  const authorizeUrl = location(start, loginUrl);
  let url = authorizeUrl;
  for (let hops = 0; hops < 10; hops++) {
    const res = await request(jar, url);
    if (res.status >= 300 && res.status < 400) {
      const next = location(res, url);
      if (next.includes('/sso/') && next.includes('/callback')) return { callbackUrl: next, authorizeUrl };
      url = next;
      continue;
    }
    if (res.status === 200 && /\/interaction\//.test(url)) {
      await res.text();
      const post = await request(jar, `${url.replace(/\/$/, '')}/login`, { method: 'POST', form: { login, password } });
      if (post.status === 200) throw new Error(`IdP refused the credentials: ${await post.text()}`);
      url = location(post, url);
      continue;
    }
    throw new Error(`unexpected ${res.status} at ${url}: ${await res.text()}`);
  }
  throw new Error('too many redirects');
}

/** Follows the callback; returns the host product's URL with its query parameters. */
export async function finishAtCallback(jar: CookieJar, callbackUrl: string): Promise<{ status: number; location: URL | undefined; body: string }> {
  const res = await request(jar, callbackUrl);
  const l = res.headers.get('location');
  return { status: res.status, location: l ? new URL(l) : undefined, body: await res.text() };
}
