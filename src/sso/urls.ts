/** The sign-in broker's URLs, relative to idpbridge's public base URL. */
export const ssoCallbackUrl = (base: string, tenantId: string) => `${base}/sso/${tenantId}/callback`;
export const ssoLoginUrl = (base: string, tenantId: string) => `${base}/sso/${tenantId}/login`;
export const ssoPasswordLoginUrl = (base: string, tenantId: string) => `${base}/sso/${tenantId}/password-login`;
export const jwksUrl = (base: string) => `${base}/.well-known/jwks.json`;
/**
 * `iss` of the tokens the broker signs for one tenant: every tenant has its own issuer, so a
 * verifier that checks the issuer cannot take tenant A's token as tenant B's (the signing keys are
 * shared by the installation; `tenant` in the claims says the same).
 */
export const ssoIssuer = (base: string, tenantId: string) => `${base}/sso/${tenantId.toLowerCase()}`;
