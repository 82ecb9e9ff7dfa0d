export { applyPatch } from './apply.js';
export { parsePatchMessage, PATCH_OP_SCHEMA } from './message.js';
export type { MemberOp, MemberRef, PatchResult, PatchOperation } from './types.js';
