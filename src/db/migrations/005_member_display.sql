-- Display text an IdP sent for a member, if any (rendered instead of the user's own name).
ALTER TABLE scim_group_members ADD COLUMN display text;
