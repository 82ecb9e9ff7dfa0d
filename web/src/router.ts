import { useEffect, useState } from 'react';

/** Hash routes (#/tenants, #/t/<id>/users?search=x): no server fallback needed, deep links work. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function parse(): Route {
  const raw = window.location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const href = (path: string, query?: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '' && !(k === 'offset' && v === 0)) q.set(k, String(v));
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ''}`;
};

export const navigate = (path: string, query?: Record<string, string | number | undefined>) => {
  window.location.hash = href(path, query).slice(1);
};

export const tpath = (tenantId: string, rest = '') => `/t/${tenantId}${rest}`;
