/** The access model's public surface (used by the /v1 authorize API, the admin API and tests). */
export {
  effectiveAccess, findIdentity, resolveDataset, authorizeDataset, activateStagedIdentity,
  type EffectiveAccess, type IdentitySummary, type IdentityStatus, type IdentitySource, type DatasetRef, type AuthorizeReason,
} from './effective.js';
export {
  verifyApiKey, createApiKey, listApiKeys, getApiKey, updateApiKey, rotateApiKey, deleteApiKey, API_KEY_PREFIX, type ApiKeyInfo,
} from './api-keys.js';
export { grantsOf, unresolvedGrants, identitiesGrantedDirectly, type GrantView } from './grants.js';
export { rolesOf, metadataOf, userTypeOf, grantValuesOf, checkUserType } from './identity-data.js';
export { accessObserver } from './observer.js';
