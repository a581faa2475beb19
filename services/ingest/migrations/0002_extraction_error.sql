-- A document whose extraction ran out of its budget is kept, with why, instead of being lost:
-- it shows as FAILED, and the same bytes sent again are extracted again.
ALTER TABLE documents ADD COLUMN extraction_error text NOT NULL DEFAULT '';
