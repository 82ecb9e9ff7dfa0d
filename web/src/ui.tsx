import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, get } from './api';

// ---- data loading ----

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (again whenever it changes or reload() is called); null path = nothing to load. */
export function useGet<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    get<T>(path, ac.signal).then(
      (data) => setState({ data, loading: false }),
      (err: Error) => { if (err.name !== 'AbortError') setState({ loading: false, error: err.message }); },
    );
    return () => ac.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Runs a write, tracking busy state and the error in words. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : (err as Error).message || 'Something went wrong');
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

// ---- small pieces ----

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ children, onRetry }: { children: ReactNode; onRetry?: () => void }) {
  if (!children) return null;
  return (
    <div className="error" role="alert">
      <strong>Problem: </strong>{children}
      {onRetry && <button type="button" className="link" onClick={onRetry}>Try again</button>}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Badge({ tone, children, title }: { tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted'; children: ReactNode; title?: string }) {
  return <span className={`badge badge-${tone}`} title={title}>{children}</span>;
}

export function Status({ value }: { value: string }) {
  const tone = value === 'active' || value === 'delivered' || value === 'success' || value === 'ok' ? 'ok'
    : value === 'staged' || value === 'pending' || value === 'warn' || value === 'failure' ? 'warn'
    : value === 'suspended' || value === 'revoked' || value === 'expired' || value === 'dead' || value === 'error' || value === 'fail' ? 'bad' : 'muted';
  return <Badge tone={tone}>{value}</Badge>;
}

export function PageHeader({ title, children, intro }: { title: string; children?: ReactNode; intro?: ReactNode }) {
  return (
    <header className="page-header">
      <div className="page-header-row">
        <h1 tabIndex={-1} id="page-title">{title}</h1>
        {children && <div className="page-actions">{children}</div>}
      </div>
      {intro && <p className="intro">{intro}</p>}
    </header>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  return (
    <section className="card" aria-labelledby={id ? `${id}-h` : undefined}>
      <div className="card-head">
        <h2 id={id ? `${id}-h` : undefined}>{title}</h2>
        {actions && <div className="card-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (insecure context, permissions): fall back to a selection copy.
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    document.body.appendChild(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

export function CopyButton({ text, label = 'Copy', what }: { text: string; label?: string; what: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <>
      <button type="button" className="secondary" aria-label={`${label} ${what}`}
        onClick={async () => setState((await copyText(text)) ? 'copied' : 'failed')}>
        {state === 'copied' ? 'Copied ✓' : label}
      </button>
      <span className="sr-only" role="status" aria-live="polite">
        {state === 'copied' ? `${what} copied to the clipboard` : state === 'failed' ? `Could not copy; select the ${what} and copy it by hand` : ''}
      </span>
    </>
  );
}

/** A read-only value with a copy button (SCIM URL, secrets). */
export function CopyField({ label, value, secret, testId }: { label: string; value: string; secret?: boolean; testId?: string }) {
  const id = useId();
  return (
    <div className="copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        <input id={id} readOnly value={value} className={secret ? 'mono secret' : 'mono'} data-testid={testId}
          onFocus={(e) => e.currentTarget.select()} spellCheck={false} />
        <CopyButton text={value} what={label} />
      </div>
    </div>
  );
}

/** A modal confirmation built on <dialog>: focus is trapped, Escape cancels. */
export function Confirm({ open, title, children, confirmLabel, danger, busy, error, onConfirm, onCancel }: {
  open: boolean; title: string; children: ReactNode; confirmLabel: string; danger?: boolean; busy?: boolean; error?: string;
  onConfirm: () => void; onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(e) => { e.preventDefault(); onCancel(); }}>
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      <ErrorBox>{error}</ErrorBox>
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onCancel} disabled={busy}>Cancel</button>
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm} disabled={busy} autoFocus={!danger}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** Offset pager: "1–50 of 100,000" with previous/next. */
export function Pager({ offset, limit, total, shown, onChange, what }: {
  offset: number; limit: number; total: number; shown: number; onChange: (offset: number) => void; what: string;
}) {
  if (total === 0) return null;
  const fmt = (n: number) => n.toLocaleString('en');
  return (
    <nav className="pager" aria-label={`${what} pages`}>
      <span aria-live="polite">{fmt(offset + 1)}–{fmt(offset + shown)} of {fmt(total)} {what}</span>
      <span className="pager-buttons">
        <button type="button" className="secondary" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - limit))}>← Previous</button>
        <button type="button" className="secondary" disabled={offset + shown >= total} onClick={() => onChange(offset + limit)}>Next →</button>
      </span>
    </nav>
  );
}

export function SearchBox({ value, onSearch, label, placeholder }: { value: string; onSearch: (q: string) => void; label: string; placeholder?: string }) {
  const [q, setQ] = useState(value);
  const id = useId();
  useEffect(() => setQ(value), [value]);
  useEffect(() => {
    if (q === value) return;
    const t = setTimeout(() => onSearch(q.trim()), 350);
    return () => clearTimeout(t);
  }, [q, value, onSearch]);
  return (
    <form role="search" className="search" onSubmit={(e) => { e.preventDefault(); onSearch(q.trim()); }}>
      <label htmlFor={id} className="sr-only">{label}</label>
      <input id={id} type="search" value={q} placeholder={placeholder ?? label} onChange={(e) => setQ(e.target.value)} />
      <button type="submit" className="secondary">Search</button>
    </form>
  );
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—');

export function SecretOnce({ title, secret, onDone, children }: { title: string; secret: string; onDone: () => void; children?: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => { ref.current?.focus(); }, []);
  return (
    <div className="secret-once" role="region" aria-label={title} tabIndex={-1} ref={ref}>
      <h3>{title}</h3>
      <p className="warn-text"><strong>Copy it now.</strong> It is shown only once: idpbridge keeps a hash, never the secret itself.</p>
      {children}
      <CopyField label="Secret" value={secret} secret testId="secret-value" />
      <button type="button" className="primary" onClick={onDone}>I have copied it</button>
    </div>
  );
}
