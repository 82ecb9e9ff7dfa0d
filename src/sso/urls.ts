/** The sign-in broker's URLs, relative to idpbridge's public base URL. */
export const ssoCallbackUrl = (base: string, tenantId: string) => `${base}/sso/${tenantId}/callback`;
export const ssoLoginUrl = (base: string, tenantId: string) => `${base}/sso/${tenantId}/login`;
export const ssoPasswordLoginUrl = (base: string, tenantId: string) => `${base}/sso/${tenantId}/password-login`;
export const jwksUrl = (base: string) => `${base}/.well-known/jwks.json`;
