/**
 * Executable documentation: finds the requests in a guide and runs them against a real server.
 *
 * A request in a guide is a fenced ```sh block holding one `curl` command (or `npx idpbridge …`),
 * preceded by `<!-- doc-test: <name> [retry] -->`, and followed by its documented answer: a fenced
 * ```http block (status line, optional headers, optional body) preceded by `<!-- doc-expect -->`.
 *
 * Placeholders: `$NAME` / `${NAME}` in unquoted or double-quoted shell words and in unquoted
 * here-documents (`-d @- <<EOF … EOF`), as a shell would expand them. In the expected answer a
 * `$NAME` that is already known must match its value; one that is not yet known is captured from
 * the response (so a later request can use the id the reader was told to note). `…` is a wildcard:
 * a string that is exactly "…" matches any present value, `…` inside a string matches any text, and
 * an array whose last expected element is "…" may be longer. Objects match by subset.
 */
import { readFileSync } from 'node:fs';

export interface DocRequest {
  name: string;
  file: string;
  line: number;
  retry: boolean;
  command: string;
  expect: DocExpect;
}

export interface DocExpect {
  /** HTTP status; 0 for a command's output (exit code 0 expected). */
  status: number;
  headers: [string, string][];
  /** Parsed JSON, text to find line by line, or undefined (no body shown). */
  body: { kind: 'json'; value: unknown } | { kind: 'text'; lines: string[] } | undefined;
}

export interface DocCode {
  name: string;
  lang: string;
  source: string;
}

interface Fence {
  lang: string;
  text: string;
  line: number;
  /** The `<!-- … -->` comment right before the fence (blank lines allowed), if any. */
  marker?: string;
}

const FENCE_RE = /^(\s*)(`{3,})([\w-]*)\s*$/;

/** Every fenced block with the HTML comment that precedes it. */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const out: Fence[] = [];
  let lastComment: { text: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = FENCE_RE.exec(l);
    if (m) {
      const indent = m[1]!.length;
      const ticks = m[2]!;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        if (lines[j]!.trim() === ticks) break;
        body.push(lines[j]!.slice(Math.min(indent, lines[j]!.length - lines[j]!.trimStart().length)));
      }
      out.push({ lang: m[3] ?? '', text: body.join('\n'), line: i + 1, marker: lastComment?.text });
      lastComment = undefined;
      i = j;
      continue;
    }
    const c = /^\s*<!--\s*(doc-[^>]*?)\s*-->\s*$/.exec(l);
    if (c) lastComment = { text: c[1]!, line: i + 1 };
    else if (l.trim() !== '') lastComment = undefined;
  }
  return out;
}

/** The requests of a guide, in order; throws on a marker without its block or answer. */
export function parseGuide(file: string): { requests: DocRequest[]; code: DocCode[]; unmarkedCurl: number[] } {
  const md = readFileSync(file, 'utf8');
  const fs = fences(md);
  const requests: DocRequest[] = [];
  const code: DocCode[] = [];
  const unmarkedCurl: number[] = [];
  for (let i = 0; i < fs.length; i++) {
    const f = fs[i]!;
    const marker = f.marker ?? '';
    const test = /^doc-test:\s*(\S+)(.*)$/.exec(marker);
    const codeMark = /^doc-code:\s*(\S+)/.exec(marker);
    if (codeMark) {
      code.push({ name: codeMark[1]!, lang: f.lang, source: f.text });
      continue;
    }
    if (!test) {
      if (/(^|\s)(curl|npx idpbridge)\s/m.test(f.text) && marker !== 'doc-expect') unmarkedCurl.push(f.line);
      continue;
    }
    const next = fs[i + 1];
    if (!next || next.marker !== 'doc-expect') throw new Error(`${file}:${f.line}: doc-test "${test[1]}" has no <!-- doc-expect --> block after it`);
    requests.push({
      name: test[1]!, file, line: f.line, retry: /\bretry\b/.test(test[2] ?? ''), command: f.text, expect: parseExpect(next.text, `${file}:${next.line}`),
    });
    i++;
  }
  return { requests, code, unmarkedCurl };
}

export function parseExpect(text: string, where: string): DocExpect {
  const lines = text.split('\n');
  const status = /^HTTP\/[\d.]+\s+(\d{3})\b/.exec(lines[0] ?? '');
  if (!status) {
    // A command's output (the CLI): every line must appear; exit code 0.
    return { status: 0, headers: [], body: { kind: 'text', lines: lines.map((l) => l.trim()).filter((l) => l && l !== '…') } };
  }
  const headers: [string, string][] = [];
  let i = 1;
  for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
    const h = /^([\w-]+):\s*(.*)$/.exec(lines[i]!);
    if (!h) throw new Error(`${where}: not a header line: ${lines[i]}`);
    headers.push([h[1]!.toLowerCase(), h[2]!]);
  }
  const rest = lines.slice(i + 1).join('\n').trim();
  let body: DocExpect['body'];
  if (rest) {
    if (rest.startsWith('{') || rest.startsWith('[')) {
      try {
        body = { kind: 'json', value: JSON.parse(rest) };
      } catch (err) {
        throw new Error(`${where}: the expected body is not valid JSON: ${(err as Error).message}`);
      }
    } else {
      body = { kind: 'text', lines: rest.split('\n').map((l) => l.trim()).filter((l) => l && l !== '…') };
    }
  }
  return { status: Number(status[1]), headers, body };
}

// ---------------------------------------------------------------------------------------------
// A small shell-word reader: enough of POSIX quoting for documentation commands.

export type Vars = Map<string, string>;

function expand(s: string, vars: Vars, where: string): string {
  return s.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const v = vars.get(name);
    if (v === undefined) throw new Error(`${where}: $${name} is not known at this point of the guide`);
    return v;
  });
}

/** Splits a command into words (quotes removed, variables expanded) and its here-document. */
export function shellWords(command: string, vars: Vars, where: string): { words: string[]; heredoc?: string } {
  const lines = command.split('\n');
  // The command runs until a newline outside quotes that is not escaped (continuation lines joined,
  // newlines inside quotes kept); comment lines before it are skipped.
  let cmd = '';
  let i = 0;
  let quote: string | undefined;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    if (!quote && cmd === '' && (l.trimStart().startsWith('#') || l.trim() === '')) continue;
    for (let k = 0; k < l.length; k++) {
      const ch = l[k]!;
      if (quote) { if (ch === quote) quote = undefined; else if (ch === '\\' && quote === '"') k++; }
      else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '\\') k++;
    }
    if (quote) { cmd += `${l}\n`; continue; }
    if (l.endsWith('\\')) { cmd += `${l.slice(0, -1)} `; continue; }
    cmd += l;
    i++;
    break;
  }
  let heredoc: string | undefined;
  const hd = /<<(-?)\s*(['"]?)([A-Za-z_]+)\2\s*$/.exec(cmd);
  if (hd) {
    cmd = cmd.slice(0, hd.index);
    const end = lines.findIndex((l, k) => k >= i && l.trim() === hd[3]);
    if (end < 0) throw new Error(`${where}: here-document ${hd[3]} is not closed`);
    const raw = lines.slice(i, end).join('\n');
    heredoc = hd[2] ? raw : expand(raw, vars, where);
    i = end + 1;
  }
  if (lines.slice(i).some((l) => l.trim() && !l.trim().startsWith('#'))) {
    throw new Error(`${where}: one command per block (found more after the first)`);
  }
  const words: string[] = [];
  let cur: string | undefined;
  for (let k = 0; k < cmd.length; k++) {
    const ch = cmd[k]!;
    if (ch === "'") {
      const e = cmd.indexOf("'", k + 1);
      if (e < 0) throw new Error(`${where}: unclosed single quote`);
      cur = (cur ?? '') + cmd.slice(k + 1, e);
      k = e;
    } else if (ch === '"') {
      let s = '';
      let e = k + 1;
      for (; e < cmd.length && cmd[e] !== '"'; e++) {
        if (cmd[e] === '\\' && '"\\$`'.includes(cmd[e + 1] ?? '')) { s += cmd[e + 1]; e++; } else s += cmd[e];
      }
      if (e >= cmd.length) throw new Error(`${where}: unclosed double quote`);
      cur = (cur ?? '') + expand(s.replace(/\\\$/g, '\u0000'), vars, where).replace(/\u0000/g, '$');
      k = e;
    } else if (/\s/.test(ch)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else {
      let e = k;
      while (e < cmd.length && !/[\s'"]/.test(cmd[e]!)) e++;
      cur = (cur ?? '') + expand(cmd.slice(k, e), vars, where);
      k = e - 1;
    }
  }
  if (cur !== undefined) words.push(cur);
  return { words, heredoc };
}

export interface HttpCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Reads a curl command line into the request it sends. */
export function curlToRequest(words: string[], heredoc: string | undefined, where: string): HttpCall {
  if (words[0] !== 'curl') throw new Error(`${where}: expected a curl command, got ${words[0]}`);
  let method: string | undefined;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  const data: string[] = [];
  const query: string[] = [];
  let get = false;
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    const val = () => {
      const v = words[++i];
      if (v === undefined) throw new Error(`${where}: ${w} needs a value`);
      return v;
    };
    if (w === '-X' || w === '--request') method = val();
    else if (w === '-H' || w === '--header') {
      const h = val();
      const c = h.indexOf(':');
      headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
    } else if (w === '-d' || w === '--data' || w === '--data-raw' || w === '--data-binary') {
      const v = val();
      data.push(v === '@-' ? (heredoc ?? '') : v);
    } else if (w === '--data-urlencode') {
      const v = val();
      const eq = v.indexOf('=');
      query.push(eq < 0 ? encodeURIComponent(v) : `${v.slice(0, eq)}=${encodeURIComponent(v.slice(eq + 1))}`);
    } else if (w === '-u' || w === '--user') {
      headers.authorization = `Basic ${Buffer.from(val()).toString('base64')}`;
    } else if (w === '-G' || w === '--get') get = true;
    else if (['-s', '-S', '-sS', '--silent', '--show-error', '-i', '--include', '-f', '--fail', '--fail-with-body', '-L'].includes(w)) continue;
    else if (w.startsWith('-')) throw new Error(`${where}: curl option ${w} is not understood by the doc runner`);
    else if (url === undefined) url = w;
    else throw new Error(`${where}: two URLs (${url}, ${w})`);
  }
  if (!url) throw new Error(`${where}: no URL`);
  if (get) {
    const all = [...data, ...query];
    if (all.length) url += (url.includes('?') ? '&' : '?') + all.join('&');
    return { method: method ?? 'GET', url, headers };
  }
  if (query.length) data.push(query.join('&'));
  const body = data.length ? data.join('&') : undefined;
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/x-www-form-urlencoded';
  return { method: method ?? (body !== undefined ? 'POST' : 'GET'), url, headers, body };
}

// ---------------------------------------------------------------------------------------------
// Matching documented answers.

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matches a documented string against an actual one; returns captures or a reason. */
export function matchString(expected: string, actual: string, vars: Vars): { ok: true; captures: [string, string][] } | { ok: false } {
  if (expected === '…') return { ok: true, captures: [] };
  const parts = expected.split(/(\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*|…)/);
  const names: string[] = [];
  let re = '^';
  for (const p of parts) {
    if (p === '…') re += '[\\s\\S]*?';
    else if (p.startsWith('$')) {
      const name = p.replace(/^\$\{?|\}$/g, '');
      const known = vars.get(name);
      if (known !== undefined) re += escapeRe(known);
      else if (names.includes(name)) re += `\\k<${name}>`;
      else { names.push(name); re += `(?<${name}>[\\s\\S]+?)`; }
    } else re += escapeRe(p);
  }
  const m = new RegExp(`${re}$`).exec(actual);
  if (!m) return { ok: false };
  return { ok: true, captures: names.map((n) => [n, m.groups![n]!]) };
}

/** Subset match of documented JSON against the actual answer; returns the mismatches. */
export function matchJson(expected: unknown, actual: unknown, vars: Vars, path = '$', captures: [string, string][] = []): { problems: string[]; captures: [string, string][] } {
  const problems: string[] = [];
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 200);
  if (typeof expected === 'string') {
    if (expected === '…') {
      if (actual === undefined) problems.push(`${path}: missing`);
    } else if (typeof actual !== 'string') {
      problems.push(`${path}: expected string ${show(expected)}, got ${show(actual)}`);
    } else {
      const m = matchString(expected, actual, vars);
      if (!m.ok) problems.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
      else for (const [k, v] of m.captures) { vars.set(k, v); captures.push([k, v]); }
    }
  } else if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) problems.push(`${path}: expected an array, got ${show(actual)}`);
    else {
      const open = expected[expected.length - 1] === '…';
      const items = open ? expected.slice(0, -1) : expected;
      if (open ? actual.length < items.length : actual.length !== items.length) {
        problems.push(`${path}: expected ${open ? 'at least ' : ''}${items.length} items, got ${actual.length}: ${show(actual)}`);
      } else items.forEach((e, i) => problems.push(...matchJson(e, actual[i], vars, `${path}[${i}]`, captures).problems));
    }
  } else if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) problems.push(`${path}: expected an object, got ${show(actual)}`);
    else {
      for (const [k, v] of Object.entries(expected)) {
        problems.push(...matchJson(v, (actual as Record<string, unknown>)[k], vars, `${path}.${k}`, captures).problems);
      }
    }
  } else if (expected !== actual) {
    problems.push(`${path}: expected ${show(expected)}, got ${show(actual)}`);
  }
  return { problems, captures };
}

export interface DocResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Compares an answer with the documented one; fills vars with captured values. */
export function checkResponse(expect: DocExpect, res: DocResponse, vars: Vars): string[] {
  const problems: string[] = [];
  if (res.status !== expect.status) problems.push(`status: expected ${expect.status}, got ${res.status}`);
  for (const [name, value] of expect.headers) {
    const got = res.headers.get(name);
    if (got === null) problems.push(`header ${name}: missing`);
    else if (!matchString(value, got, vars).ok && !got.startsWith(value)) problems.push(`header ${name}: expected ${value}, got ${got}`);
  }
  if (expect.body?.kind === 'json') {
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      problems.push(`body: not JSON: ${res.text.slice(0, 200)}`);
    }
    if (json !== undefined) problems.push(...matchJson(expect.body.value, json, vars).problems);
  } else if (expect.body?.kind === 'text') {
    for (const raw of expect.body.lines) {
      const l = raw.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (m, n: string) => vars.get(n) ?? m);
      const pattern = l.split('…').map(escapeRe).join('.*?');
      if (!new RegExp(pattern).test(res.text)) problems.push(`body: no line matches "${l}"`);
    }
  }
  return problems;
}
