import type { FastifyInstance } from 'fastify';
import type { OverridesChange, ProvisioningOverrides } from '../access/provisioning-overrides.js';
import { auditBefore } from '../audit/http.js';
import { params } from './access-schemas.js';

/**
 * Overrides of the tenant's provisioning defaults (docs/access-model.md "Provisioning overrides"),
 * on an access group or an identity: both fields required, null = inherit.
 */
export const provisioningOverridesSchema = {
  type: 'object',
  required: ['newUserStatus', 'automaticInvitation'],
  additionalProperties: false,
  properties: {
    newUserStatus: { type: ['string', 'null'], enum: ['staged', 'active', null], description: 'Status a SCIM-created identity starts in; null inherits' },
    automaticInvitation: { type: ['boolean', 'null'], description: 'Send the activation e-mail; null inherits' },
  },
} as const;

type OwnerParams = { tenantId: string } & Record<string, string>;

/** What differs between the identity's and the access group's overrides routes. */
export interface OverridesOwner {
  /** e.g. `/tenants/:tenantId/users/:userId` */
  path: string;
  /** The owner's id parameter in `path`. */
  idParam: string;
  tags: string[];
  getSummary: string;
  putSummary: string;
  /** 404s when the tenant or the owner does not exist. */
  require(tenantId: string, id: string): Promise<unknown>;
  read(tenantId: string, id: string): Promise<ProvisioningOverrides>;
  /** undefined when the owner does not exist (any more). */
  write(tenantId: string, id: string, value: ProvisioningOverrides): Promise<OverridesChange | undefined>;
  /** The 404 of a missing owner. */
  missing(): Error;
}

/** GET and PUT `{path}/provisioning` for one kind of owner. */
export function registerOverridesRoutes(app: FastifyInstance, owner: OverridesOwner): void {
  const url = `${owner.path}/provisioning`;
  const idOf = (p: OwnerParams) => p[owner.idParam]!;
  app.get<{ Params: OwnerParams }>(url, {
    schema: { tags: owner.tags, summary: owner.getSummary, params: params('tenantId', owner.idParam), response: { 200: provisioningOverridesSchema } },
  }, async (req) => {
    await owner.require(req.params.tenantId, idOf(req.params));
    return owner.read(req.params.tenantId, idOf(req.params));
  });
  app.put<{ Params: OwnerParams; Body: ProvisioningOverrides }>(url, {
    schema: {
      tags: owner.tags, summary: owner.putSummary, params: params('tenantId', owner.idParam),
      body: provisioningOverridesSchema, response: { 200: provisioningOverridesSchema },
    },
  }, async (req) => {
    await owner.require(req.params.tenantId, idOf(req.params));
    const change = await owner.write(req.params.tenantId, idOf(req.params), req.body);
    if (!change) throw owner.missing();
    // From the write itself: the values it replaced (catalogue `before: 'route'`).
    auditBefore(req, change.replaced);
    return change.value;
  });
}
