/** The few HTML pages the broker shows itself (errors, the guest password form). No scripts. */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

const layout = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25rem}label{display:block;margin:.75rem 0 .25rem}
input{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1rem;font:inherit}
.error{color:#a40000}</style></head><body>${body}</body></html>`;

export function errorPage(code: string, message: string): string {
  return layout('Sign-in failed', `<h1>Sign-in failed</h1><p role="alert">${esc(message)}</p><p><code>${esc(code)}</code></p>`);
}

export function passwordPage(p: { action: string; redirectUri: string; state: string | undefined; userName?: string | undefined; error?: string | undefined }): string {
  return layout('Sign in', `<h1>Sign in</h1>
${p.error ? `<p class="error" role="alert">${esc(p.error)}</p>` : ''}
<form method="post" action="${esc(p.action)}">
<input type="hidden" name="redirect_uri" value="${esc(p.redirectUri)}">
${p.state !== undefined ? `<input type="hidden" name="state" value="${esc(p.state)}">` : ''}
<label for="userName">User name</label><input id="userName" name="userName" autocomplete="username" required value="${esc(p.userName ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`);
}
