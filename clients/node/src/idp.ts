/**
 * IdP tokens for non-browser apps (services, CLIs, batch jobs), configured from a JSON `idp`
 * section:
 *
 *   { "type": "okta", "customerId": "<idpbridge tenant id>", "tokenUrl": "https://acme.okta.com/oauth2/v1/token",
 *     "clientId": "0oa…", "clientSecret": "…" }
 *   { "type": "entra", "customerId": "<idpbridge tenant id>", "tenant": "<Entra directory id>",
 *     "clientId": "…", "clientSecret": "…", "scope": "api://idpbridge/.default" }
 *
 * The snake_case names of the Okta guide's configuration file are accepted as well
 * (`customer_id`, `token_endpoint_url`, `client_secret`, and `tenant_id`, which that guide uses for
 * the Okta *client id*).
 */
export type IdpType = 'entra' | 'okta';

export interface IdpConfig {
  type: IdpType;
  /** The idpbridge tenant id (the id in the SCIM URL). */
  customerId?: string;
  /** Entra: the directory (tenant) id; used to derive tokenUrl when it is left out. */
  tenant?: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Scope requested (Entra client credentials: `<Application ID URI>/.default`). */
  scope?: string;
  /** Resource indicator (RFC 8707), for IdPs that use one. */
  resource?: string;
  /** How the client authenticates at the token endpoint; default basic for Okta, post for Entra. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
}

export class IdpConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdpConfigError';
  }
}

const str = (o: Record<string, unknown>, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = o[n];
    if (typeof v === 'string' && v.trim() !== '') return v.trim();
  }
  return undefined;
};

/** Validates an `idp` section (an object, or JSON text of one, or of a document with an `idp` key). */
export function parseIdpConfig(input: unknown): IdpConfig {
  let o = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  if (o && typeof o === 'object' && 'idp' in o && typeof (o as { idp: unknown }).idp === 'object') o = (o as { idp: unknown }).idp;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new IdpConfigError('the idp section must be a JSON object');
  const r = o as Record<string, unknown>;
  const type = str(r, 'type')?.toLowerCase();
  if (type !== 'entra' && type !== 'okta') throw new IdpConfigError(`idp.type must be "entra" or "okta", got ${JSON.stringify(r.type)}`);
  const tenant = str(r, 'tenant', ...(type === 'entra' ? ['tenant_id', 'tenantId'] : []));
  // The Okta guide calls the Okta client id "tenant_id".
  const clientId = str(r, 'clientId', 'client_id', ...(type === 'okta' ? ['tenant_id', 'tenantId'] : []));
  const clientSecret = str(r, 'clientSecret', 'client_secret');
  let tokenUrl = str(r, 'tokenUrl', 'token_endpoint_url', 'tokenEndpointUrl');
  if (!tokenUrl && type === 'entra' && tenant) tokenUrl = `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
  if (!tokenUrl) throw new IdpConfigError(type === 'entra' ? 'idp.tokenUrl (or idp.tenant, the Entra directory id) is required' : 'idp.tokenUrl is required, e.g. https://<your org>.okta.com/oauth2/v1/token');
  let u: URL;
  try {
    u = new URL(tokenUrl);
  } catch {
    throw new IdpConfigError(`idp.tokenUrl is not a URL: ${tokenUrl}`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))) {
    throw new IdpConfigError('idp.tokenUrl must use https (http only for localhost)');
  }
  if (!clientId) throw new IdpConfigError('idp.clientId is required');
  if (!clientSecret) throw new IdpConfigError('idp.clientSecret is required');
  const cfg: IdpConfig = { type, tokenUrl, clientId, clientSecret };
  const customerId = str(r, 'customerId', 'customer_id');
  if (customerId) cfg.customerId = customerId;
  if (tenant && type === 'entra') cfg.tenant = tenant;
  const scope = str(r, 'scope');
  if (scope) cfg.scope = scope;
  const resource = str(r, 'resource');
  if (resource) cfg.resource = resource;
  const authMethod = str(r, 'authMethod', 'token_endpoint_auth_method');
  if (authMethod) {
    if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') throw new IdpConfigError('idp.authMethod must be client_secret_basic or client_secret_post');
    cfg.authMethod = authMethod;
  }
  return cfg;
}

export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  /** ms since the epoch. */
  expiresAt: number;
  scope?: string;
  idToken?: string;
}

/** The IdP refused the request (its `error` / `error_description`), or could not be reached. */
export class IdpTokenError extends Error {
  constructor(readonly status: number, readonly error: string, message: string) {
    super(message);
    this.name = 'IdpTokenError';
  }
}

const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/** Client credentials and (Okta) resource-owner password tokens from the configured IdP, cached until shortly before expiry. */
export class IdpTokenClient {
  readonly config: IdpConfig;
  private cached: TokenResponse | undefined;

  constructor(config: IdpConfig | unknown, private readonly opts: { fetch?: typeof fetch; timeoutMs?: number; refreshSkewSeconds?: number } = {}) {
    this.config = parseIdpConfig(config);
  }

  private async request(form: Record<string, string>): Promise<TokenResponse> {
    const c = this.config;
    const params = new URLSearchParams(form);
    if (c.resource && !params.has('resource')) params.set('resource', c.resource);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const method = c.authMethod ?? (c.type === 'okta' ? 'client_secret_basic' : 'client_secret_post');
    if (method === 'client_secret_basic') {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(c.clientId)}:${formEncode(c.clientSecret)}`).toString('base64')}`;
    } else {
      params.set('client_id', c.clientId);
      params.set('client_secret', c.clientSecret);
    }
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(c.tokenUrl, { method: 'POST', headers, body: params.toString(), signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new IdpTokenError(0, 'network', `the IdP token endpoint ${c.tokenUrl} could not be reached: ${(err as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok || typeof body.access_token !== 'string') {
      const error = typeof body.error === 'string' ? body.error : `http_${res.status}`;
      const desc = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
      throw new IdpTokenError(res.status, error, `the IdP refused the token request (${error}${desc})`);
    }
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600);
    const out: TokenResponse = {
      accessToken: body.access_token,
      tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
      expiresAt: Date.now() + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000,
    };
    if (typeof body.scope === 'string') out.scope = body.scope;
    if (typeof body.id_token === 'string') out.idToken = body.id_token;
    return out;
  }

  /** An app-only token (grant_type=client_credentials), reused until shortly before it expires. */
  async clientCredentials(o: { scope?: string; force?: boolean } = {}): Promise<TokenResponse> {
    const skew = (this.opts.refreshSkewSeconds ?? 60) * 1000;
    if (!o.force && this.cached && this.cached.expiresAt - skew > Date.now()) return this.cached;
    const scope = o.scope ?? this.config.scope;
    this.cached = await this.request({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
    return this.cached;
  }

  /**
   * A user's token with the resource-owner password grant (grant_type=password), as the Okta guide
   * uses it for SDKs (IDP_USERNAME / IDP_PASSWORD). Okta only: Entra does not offer it to
   * confidential apps and discourages it.
   */
  async password(username: string, password: string, o: { scope?: string } = {}): Promise<TokenResponse> {
    if (this.config.type !== 'okta') throw new IdpConfigError('the password grant is only offered for idp.type "okta"');
    const scope = o.scope ?? this.config.scope ?? 'openid';
    return this.request({ grant_type: 'password', username, password, scope });
  }
}
