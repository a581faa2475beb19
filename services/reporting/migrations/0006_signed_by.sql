-- Who signed, as the credential says (unit@government and role), next to the name and post the
-- signer typed: the typed words are kept as written, the credential is what the office trusts.
ALTER TABLE reports ADD COLUMN signed_by text NOT NULL DEFAULT '';
