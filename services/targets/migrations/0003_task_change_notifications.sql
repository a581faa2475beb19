-- Each service replica caches the tasks it reads; a change to a task or its indicators tells
-- every replica which task to forget. New tasks are not announced: nobody has cached them.
CREATE FUNCTION notify_task_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('duban_targets_task_changed', OLD.id::text);
    RETURN NULL;
END $$;

CREATE FUNCTION notify_indicator_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('duban_targets_task_changed', OLD.task_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('duban_targets_task_changed', NEW.task_id::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_changed AFTER UPDATE OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION notify_task_changed();
CREATE TRIGGER indicators_changed AFTER INSERT OR UPDATE OR DELETE ON indicators
    FOR EACH ROW EXECUTE FUNCTION notify_indicator_changed();
