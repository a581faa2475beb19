-- The assignments service's change feed: reporting replicas cache assignments (task, unit, role)
-- and plans' reporting schedules, and forget them all when any of these tables changes. Such
-- changes are rare (unit merges, schedule edits); new assignments are not announced, nobody
-- has cached them.
CREATE FUNCTION notify_assignments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('duban_assignments_changed', '');
    RETURN NULL;
END $$;

CREATE TRIGGER assignments_changed AFTER UPDATE OR DELETE OR TRUNCATE ON assignments
    FOR EACH STATEMENT EXECUTE FUNCTION notify_assignments_changed();
CREATE TRIGGER units_changed AFTER UPDATE OR DELETE OR TRUNCATE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION notify_assignments_changed();
CREATE TRIGGER schedules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON schedules
    FOR EACH STATEMENT EXECUTE FUNCTION notify_assignments_changed();
