-- Webhook secret rotation with overlap: after PATCH {secret}, deliveries are signed with the new
-- secret and, until previous_secret_until, with the previous one too (two v1 values in
-- idpbridge-signature), so a receiver still holding the old secret keeps verifying.
ALTER TABLE webhooks ADD COLUMN previous_secret text;
ALTER TABLE webhooks ADD COLUMN previous_secret_until timestamptz;
