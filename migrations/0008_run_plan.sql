-- 0008: a run's delete decisions wait in the database, not in memory.
--
-- A run evaluates one repository at a time and adds that repository's
-- delete decisions here; the janitor then reads them back in execution order
-- (live storage before expired listings, oldest first), a batch at a time.
-- So a run's memory is bounded by its largest repository, not by the
-- organisation.
--
-- The rows are work in progress, not a record: the audit log is the record
-- (every decision gets its row there when the janitor reaches it), and a
-- run's rows are deleted when it ends. So the table is UNLOGGED (no WAL; a
-- crash empties it, which loses nothing: a run that crashed is over) and has
-- no foreign keys. The artifact itself is read from artifacts when the
-- janitor reaches it.
CREATE UNLOGGED TABLE run_plan (
    run_id           bigint      NOT NULL,
    artifact_id      bigint      NOT NULL,
    rule             text        NOT NULL,
    reason           text        NOT NULL,
    archive          boolean     NOT NULL,
    archive_required boolean     NOT NULL,
    -- The execution order, fixed once by the janitor (store.DeletionPlan.Order).
    seq              integer     NULL,
    PRIMARY KEY (run_id, artifact_id)
);

CREATE INDEX run_plan_seq_idx ON run_plan (run_id, seq);
