/** The access model's public surface (used by /v1, the sign-in broker, the admin API and tests). */
export {
  effectiveAccess, findIdentity, findIdentityByLookups, resolveDataset, activateStagedIdentity,
  type EffectiveAccess, type IdentitySummary, type IdentityStatus, type IdentitySource, type DatasetRef, type IdentityLookup,
} from './effective.js';
export {
  decideAccess, authorizeDataset, isSuspended, type AccessDecision, type AccessRequest, type AuthorizeReason,
} from './decision.js';
export {
  verifyApiKey, createApiKey, listApiKeys, getApiKey, updateApiKey, rotateApiKey, deleteApiKey, API_KEY_PREFIX, type ApiKeyInfo,
} from './api-keys.js';
export { grantsOf, unresolvedGrants, identitiesGrantedDirectly, type GrantView } from './grants.js';
export { rolesOf, metadataOf, userTypeOf, grantValuesOf, checkUserType } from './identity-data.js';
export { accessObserver } from './observer.js';
