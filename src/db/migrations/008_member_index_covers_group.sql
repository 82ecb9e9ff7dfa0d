-- A user's groups are read on every user read (Entra's userName probe included): with group_id in
-- the member index that read is an index-only scan, not one heap fetch per membership. The group
-- names come from a per-process cache (src/scim/resources/group-names.ts).
CREATE INDEX scim_group_members_member_groups ON scim_group_members (tenant_id, member_id) INCLUDE (group_id);
DROP INDEX scim_group_members_member;
