import { useEffect, useState } from 'react';
import { get } from './api';

/**
 * A newest-first list read page by page through `nextCursor` (provisioning log, audit log): the first
 * page loads whenever `deps` change or on reload(), more() appends the next one. A superseded first
 * load is aborted, so a slow answer never overwrites the filters' latest result.
 */
export function useCursorList<T>(url: (cursor?: string) => string, deps: readonly unknown[]) {
  const [entries, setEntries] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    setError(undefined);
    get<{ entries: T[]; nextCursor: string | null }>(url(), ac.signal).then(
      (r) => { setEntries(r.entries); setNext(r.nextCursor); setLoading(false); },
      (e: Error) => { if (e.name !== 'AbortError') { setError(e.message); setLoading(false); } },
    );
    return () => ac.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const more = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const r = await get<{ entries: T[]; nextCursor: string | null }>(url(next));
      setEntries((e) => [...e, ...r.entries]);
      setNext(r.nextCursor);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  };

  return { entries, next, loading, error, more, reload: () => setTick((t) => t + 1) };
}
