import type { JWTPayload } from 'jose';
import type { IdentityAttribute, OidcConfig } from './oidc-config.js';

/** The groups a token carries, or why it carries none. */
export interface TokenGroups {
  /**
   * claim: the configured groups claim was present; overage: Entra left the groups out
   * (`_claim_names` / `hasgroups`) because there are too many; absent: no groups claim.
   */
  source: 'claim' | 'overage' | 'absent';
  values: string[];
}

const MAX_GROUP_VALUES = 2_000;

export function tokenGroupsOf(payload: JWTPayload, cfg: Pick<OidcConfig, 'groupsClaim'>): TokenGroups {
  const claimNames = payload._claim_names;
  const overage = (!!claimNames && typeof claimNames === 'object' && !Array.isArray(claimNames)
      && Object.prototype.hasOwnProperty.call(claimNames, cfg.groupsClaim))
    || payload.hasgroups === true || payload.hasgroups === 'true';
  const raw = payload[cfg.groupsClaim];
  if (Array.isArray(raw)) {
    const values = raw.filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length <= 1024 && storableText(v)).slice(0, MAX_GROUP_VALUES);
    return { source: 'claim', values };
  }
  if (typeof raw === 'string' && raw && raw.length <= 1024 && storableText(raw)) return { source: 'claim', values: [raw] };
  if (overage) return { source: 'overage', values: [] };
  return { source: 'absent', values: [] };
}

export interface ClaimLookup {
  claim: string;
  attribute: IdentityAttribute;
  value: string;
}

/** The (claim → attribute, value) lookups to try in order, for the claims the token actually has. */
export function identityLookups(payload: JWTPayload, cfg: Pick<OidcConfig, 'identityClaims'>): ClaimLookup[] {
  const out: ClaimLookup[] = [];
  for (const rule of cfg.identityClaims) {
    const v = payload[rule.claim];
    if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || !storableText(v)) continue;
    out.push({ claim: rule.claim, attribute: rule.attribute, value: v });
  }
  return out;
}

export const describeLookups = (tried: ClaimLookup[]) =>
  tried.length === 0 ? 'the token has none of the configured identity claims'
    : tried.map((t) => `${t.claim} → ${t.attribute} ${JSON.stringify(t.value)}`).join(', ');

// PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate has no UTF-8 form: such a value
// can match nothing, and sending it would make the driver fail.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
export const storableText = (s: string) => !s.includes('\u0000') && !LONE_SURROGATE.test(s);
