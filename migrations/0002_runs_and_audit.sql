-- Runs and the audit log: the review interface of retentiond.
--
-- Every run records one row in runs; every decision of a run (keep or delete)
-- one row in audit_log. People review these with SQL before they switch
-- dry-run off, so the columns carry everything needed to answer "what, why,
-- what happened" without joining back to artifacts (which change over time).

CREATE TABLE runs (
    id                    bigserial PRIMARY KEY,
    started_at            timestamptz NOT NULL,
    finished_at           timestamptz,
    trigger               text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'apply')),
    dry_run               boolean     NOT NULL,
    status                text        NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'succeeded', 'partial', 'failed')),
    policy_file           text        NOT NULL DEFAULT '',
    policy_sha256         text        NOT NULL,
    -- For trigger 'apply': the dry-run that a person reviewed.
    reviewed_run_id       bigint      REFERENCES runs (id),
    max_deletions         integer     NOT NULL,
    repositories_scanned  integer     NOT NULL DEFAULT 0,
    repositories_failed   integer     NOT NULL DEFAULT 0,
    artifacts_seen        integer     NOT NULL DEFAULT 0,
    kept                  integer     NOT NULL DEFAULT 0,
    planned_deletions     integer     NOT NULL DEFAULT 0,
    deleted               integer     NOT NULL DEFAULT 0,
    already_gone          integer     NOT NULL DEFAULT 0,
    failed                integer     NOT NULL DEFAULT 0,
    skipped               integer     NOT NULL DEFAULT 0,
    cap_hit               boolean     NOT NULL DEFAULT false,
    -- Sum of size_in_bytes of deleted + already_gone artifacts.
    bytes_reclaimed       bigint      NOT NULL DEFAULT 0,
    -- In dry-run: what the run would have reclaimed.
    would_reclaim         bigint      NOT NULL DEFAULT 0,
    error                 text
);

CREATE INDEX runs_started_at_idx ON runs (started_at DESC);

ALTER TABLE scans ADD CONSTRAINT scans_run_id_fkey FOREIGN KEY (run_id) REFERENCES runs (id);
CREATE INDEX scans_run_id_idx ON scans (run_id) WHERE run_id IS NOT NULL;

CREATE TABLE audit_log (
    id                   bigserial   PRIMARY KEY,
    run_id               bigint      NOT NULL REFERENCES runs (id),
    recorded_at          timestamptz NOT NULL,
    repository           text        NOT NULL,
    artifact_id          bigint      NOT NULL,
    artifact_name        text        NOT NULL,
    size_in_bytes        bigint      NOT NULL,
    branch               text,
    head_sha             text,
    artifact_created_at  timestamptz,
    action               text        NOT NULL CHECK (action IN ('delete', 'keep')),
    rule                 text        NOT NULL,
    reason               text        NOT NULL,
    outcome              text        NOT NULL CHECK (outcome IN (
                             'dry_run', 'pending', 'deleted', 'already_gone', 'failed',
                             'skipped_cap', 'skipped_rate_limit', 'interrupted', 'kept',
                             'changed', 'expired_not_archived')),
    http_status          integer,
    error                text,
    executed_at          timestamptz,
    -- Archive-before-delete: where the download went, and what it was.
    archive_path         text,
    archive_bytes        bigint,
    archive_sha256       text,
    CHECK ((action = 'keep') = (outcome = 'kept'))
);

CREATE INDEX audit_log_run_idx ON audit_log (run_id, outcome);
CREATE INDEX audit_log_artifact_idx ON audit_log (artifact_id, id DESC);
CREATE INDEX audit_log_rule_idx ON audit_log (rule, executed_at) WHERE action = 'delete';
-- At most one DELETE in flight per artifact, whatever the number of replicas.
CREATE UNIQUE INDEX audit_log_one_pending_idx ON audit_log (artifact_id) WHERE outcome = 'pending';

-- The audit log is append-only for the application: rows are never deleted,
-- and the only change allowed is resolving a 'pending' row (the intent
-- recorded before a DELETE) to its outcome, leaving the decision itself as
-- it was. Enforced here rather than by convention.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.outcome = 'pending'
       AND (NEW.id, NEW.run_id, NEW.recorded_at, NEW.repository, NEW.artifact_id, NEW.artifact_name,
            NEW.size_in_bytes, NEW.action, NEW.rule, NEW.reason)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.run_id, OLD.recorded_at, OLD.repository, OLD.artifact_id, OLD.artifact_name,
            OLD.size_in_bytes, OLD.action, OLD.rule, OLD.reason) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % of row % (outcome %) refused', TG_OP, OLD.id, OLD.outcome
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE FUNCTION audit_log_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();

-- One row per run with its totals and how long it took.
CREATE VIEW run_summary AS
SELECT r.id,
       r.started_at,
       r.finished_at,
       r.finished_at - r.started_at AS duration,
       r.trigger,
       r.dry_run,
       r.status,
       r.policy_sha256,
       r.reviewed_run_id,
       r.repositories_scanned,
       r.repositories_failed,
       r.artifacts_seen,
       r.kept,
       r.planned_deletions,
       r.deleted,
       r.already_gone,
       r.failed,
       r.skipped,
       r.cap_hit,
       r.bytes_reclaimed,
       r.would_reclaim,
       r.error
FROM runs r;

-- The would-delete list of the latest finished dry-run, oldest first.
CREATE VIEW pending_deletions AS
SELECT a.run_id, a.repository, a.artifact_id, a.artifact_name, a.size_in_bytes, a.branch,
       a.artifact_created_at, a.rule, a.reason
FROM audit_log a
WHERE a.outcome = 'dry_run'
  AND a.run_id = (SELECT max(id) FROM runs WHERE dry_run AND status <> 'running')
ORDER BY a.artifact_created_at NULLS LAST, a.artifact_id;
