-- Lets a single-statement write undo itself: CreateReport writes the report, its first version,
-- its request_id and its audit event in one statement, and calls this when the report went in
-- but the request_id turned out to be another request's, so that none of the write stays.
CREATE FUNCTION undo_statement(message text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'DU001', MESSAGE = message;
END $$;
