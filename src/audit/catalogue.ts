/**
 * The audit catalogue: every state-changing route (POST/PUT/PATCH/DELETE under /admin/v1 and the
 * console's session API) and the entry it records (docs/audit.md lists the same table).
 * test/audit/route-table.test.ts enumerates the routes the app really has and fails on one missing
 * here, so a new route cannot forget its entry.
 */
export interface AuditRule {
  /** Stable action name; null = the route changes nothing worth an entry (`why` says why). */
  action: string | null;
  why?: string;
  /** Target resource type (the id is the route's last parameter, else the response's `id`). */
  target?: string;
  /**
   * False for routes that wait on the network (fetching IdP metadata, DNS): the change is not
   * held in a request-wide transaction during the fetch; the entry is written right after it.
   */
  transactional?: false;
  /**
   * 'route': the handler hands over the values its change replaces itself (auditBefore, from its
   * own locked write statement, so concurrent writes each record what they replaced). Every PATCH
   * and PUT says so (test/audit/before-values.test.ts); nothing reads a resource before its write.
   */
  before?: 'route';
}

const T = '/admin/v1/tenants/:tenantId';

export const AUDIT_RULES: Record<string, AuditRule> = {
  // Tenants
  'POST /admin/v1/tenants': { action: 'tenant.created', target: 'tenant' },
  [`DELETE ${T}`]: { action: 'tenant.deleted', target: 'tenant' },
  [`PUT ${T}/settings`]: { action: 'settings.updated', target: 'settings', before: 'route' },
  // SCIM credentials
  [`POST ${T}/scim-tokens`]: { action: 'scim_token.created', target: 'scim_token' },
  [`DELETE ${T}/scim-tokens/:tokenId`]: { action: 'scim_token.revoked', target: 'scim_token' },
  [`PUT ${T}/scim-basic`]: { action: 'scim_basic.set', target: 'scim_basic', before: 'route' },
  [`DELETE ${T}/scim-basic`]: { action: 'scim_basic.removed', target: 'scim_basic' },
  // Webhooks
  [`POST ${T}/webhooks`]: { action: 'webhook.created', target: 'webhook' },
  [`PATCH ${T}/webhooks/:webhookId`]: { action: 'webhook.updated', target: 'webhook', before: 'route' },
  [`DELETE ${T}/webhooks/:webhookId`]: { action: 'webhook.deleted', target: 'webhook' },
  [`POST ${T}/webhooks/:webhookId/deliveries/:eventId/redeliver`]: { action: 'webhook.delivery_requeued', target: 'webhook_delivery' },
  [`POST ${T}/webhooks/:webhookId/dead-letters/redeliver`]: { action: 'webhook.dead_letters_requeued', target: 'webhook' },
  // Access model
  [`POST ${T}/access-groups`]: { action: 'access_group.created', target: 'access_group' },
  [`PATCH ${T}/access-groups/:agId`]: { action: 'access_group.updated', target: 'access_group', before: 'route' },
  [`DELETE ${T}/access-groups/:agId`]: { action: 'access_group.deleted', target: 'access_group' },
  [`POST ${T}/access-groups/:agId/datasets`]: { action: 'access_group.dataset_added', target: 'access_group' },
  [`DELETE ${T}/access-groups/:agId/datasets/:datasetId`]: { action: 'access_group.dataset_removed', target: 'dataset' },
  [`POST ${T}/access-groups/:agId/members`]: { action: 'access_group.member_added', target: 'access_group' },
  [`DELETE ${T}/access-groups/:agId/members/:identityId`]: { action: 'access_group.member_removed', target: 'identity' },
  [`POST ${T}/datasets`]: { action: 'dataset.created', target: 'dataset' },
  [`PATCH ${T}/datasets/:datasetId`]: { action: 'dataset.updated', target: 'dataset', before: 'route' },
  [`DELETE ${T}/datasets/:datasetId`]: { action: 'dataset.deleted', target: 'dataset' },
  [`POST ${T}/users`]: { action: 'identity.created', target: 'identity' },
  [`PATCH ${T}/users/:userId`]: { action: 'identity.updated', target: 'identity', before: 'route' },
  [`DELETE ${T}/users/:userId`]: { action: 'identity.deleted', target: 'identity' },
  [`PUT ${T}/users/:userId/provisioning`]: { action: 'identity.provisioning_set', target: 'identity', before: 'route' },
  [`PUT ${T}/users/:userId/login-method`]: { action: 'identity.login_method_set', target: 'identity', before: 'route' },
  [`PUT ${T}/access-groups/:agId/provisioning`]: { action: 'access_group.provisioning_set', target: 'access_group', before: 'route' },
  [`POST ${T}/users/:userId/api-keys`]: { action: 'api_key.created', target: 'api_key' },
  [`PATCH ${T}/users/:userId/api-keys/:keyId`]: { action: 'api_key.updated', target: 'api_key', before: 'route' },
  [`POST ${T}/users/:userId/api-keys/:keyId/rotate`]: { action: 'api_key.rotated', target: 'api_key' },
  [`DELETE ${T}/users/:userId/api-keys/:keyId`]: { action: 'api_key.revoked', target: 'api_key' },
  // IdP tokens and sign-in
  [`PUT ${T}/oidc`]: { action: 'oidc.configured', target: 'oidc', before: 'route' },
  [`DELETE ${T}/oidc`]: { action: 'oidc.removed', target: 'oidc' },
  [`POST ${T}/oidc/test`]: { action: null, why: 'fetches and reports; changes no setting' },
  [`POST ${T}/sso/redirect-uris`]: { action: 'redirect_uri.added', target: 'redirect_uri' },
  [`DELETE ${T}/sso/redirect-uris/:redirectUriId`]: { action: 'redirect_uri.removed', target: 'redirect_uri' },
  [`POST ${T}/connections`]: { action: 'connection.created', target: 'connection', transactional: false },
  [`PATCH ${T}/connections/:connectionId`]: { action: 'connection.updated', target: 'connection', transactional: false, before: 'route' },
  [`DELETE ${T}/connections/:connectionId`]: { action: 'connection.deleted', target: 'connection' },
  [`POST ${T}/domains`]: { action: 'domain.added', target: 'domain' },
  [`POST ${T}/domains/:domain/verify`]: { action: 'domain.verified', target: 'domain', transactional: false },
  [`DELETE ${T}/domains/:domain`]: { action: 'domain.removed', target: 'domain' },
  // Console access
  [`POST ${T}/console-accounts`]: { action: 'console_account.created', target: 'console_account' },
  [`PATCH ${T}/console-accounts/:accountId`]: { action: 'console_account.updated', target: 'console_account', before: 'route' },
  [`DELETE ${T}/console-accounts/:accountId`]: { action: 'console_account.deleted', target: 'console_account' },
  [`POST ${T}/setup-links`]: { action: 'setup_link.created', target: 'setup_link' },
  [`DELETE ${T}/setup-links/:linkId`]: { action: 'setup_link.revoked', target: 'setup_link' },
  // The audit log itself
  'POST /admin/v1/audit-log/purge': { action: 'audit.purged', target: 'audit_log' },
  // Console session API (refused sign-ins are recorded as console.sign_in_refused, see http.ts)
  'POST /console/api/session': { action: 'console.signed_in', target: 'console_session' },
  'POST /console/api/setup-session': { action: 'console.signed_in', target: 'console_session' },
  'DELETE /console/api/session': { action: 'console.signed_out', target: 'console_session' },
};

/** Actions recorded outside the route table: refusals (docs/audit.md). */
export const REFUSAL_ACTIONS = ['admin.auth_refused', 'console.sign_in_refused'] as const;

export const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Routes the audit covers: the admin API and the console's session API. */
export const isAuditedUrl = (url: string): boolean => /^\/(admin\/v1|console\/api)\//i.test(url);

export const ruleKey = (method: string, url: string): string => `${method.toUpperCase()} ${url}`;
export const ruleFor = (method: string, url: string): AuditRule | undefined => AUDIT_RULES[ruleKey(method, url)];
