-- 0005: an audit log that grows with change, not with the organisation, and
-- that can be pruned a month at a time.
--
-- * audit_log becomes partitioned by month of recorded_at (declarative
--   partitioning). The rows written before this migration are not copied:
--   the 0004 table itself is attached, unchanged, as the partition
--   audit_log_legacy covering everything up to the end of the month of its
--   newest row. The application creates the monthly partitions ahead of time
--   (audit_log_ensure_partition, at migrate and before each run) and drops
--   whole partitions older than AUDIT_RETENTION; each drop is recorded in
--   audit_prunes. Nothing else removes rows: the append-only triggers stay.
-- * Intents (outcome 'pending') live in audit_pending, a small table whose
--   unique index keeps "one pending DELETE per artifact" (a unique index on a
--   partitioned table would have to include recorded_at). Resolving an
--   intent moves it into audit_log with its id, and the row there is final.
-- * A keep decision is written only when it is new for the artifact, or
--   differs in action or rule from its latest recorded decision (audit_latest
--   tracks that decision per artifact), or that decision is getting old (see
--   internal/store/audit.go: refreshed so pruning never takes the only row
--   saying why a live artifact is kept). audit_evaluations records which
--   runs evaluated which repositories, and the decisions view puts the two
--   together: one row per artifact per run, as audit_log had before.

-- 1. The 0004 table is set aside under a new name, without its triggers
-- (the parent's are cloned onto it when it is attached) and the indexes
-- the parent does not have.
DROP VIEW pending_deletions;
DROP TRIGGER audit_log_append_only ON audit_log;
DROP TRIGGER audit_log_no_truncate ON audit_log;
ALTER TABLE audit_log RENAME TO audit_log_legacy;
-- Its primary key (id) gives way to the parent's (id, recorded_at): a
-- partitioned table's keys must include the partition key.
ALTER TABLE audit_log_legacy DROP CONSTRAINT audit_log_pkey;
ALTER INDEX audit_log_run_idx RENAME TO audit_log_legacy_run_idx;
ALTER INDEX audit_log_artifact_idx RENAME TO audit_log_legacy_artifact_idx;
ALTER INDEX audit_log_rule_idx RENAME TO audit_log_legacy_rule_idx;
ALTER INDEX audit_log_executed_deletes_idx RENAME TO audit_log_legacy_executed_deletes_idx;

-- 2. Intents still pending move to their own table, with their ids.
CREATE TABLE audit_pending (
    id                   bigint      PRIMARY KEY,
    run_id               bigint      NOT NULL REFERENCES runs (id),
    recorded_at          timestamptz NOT NULL,
    repository           text        NOT NULL,
    artifact_id          bigint      NOT NULL,
    artifact_name        text        NOT NULL,
    size_in_bytes        bigint      NOT NULL,
    branch               text,
    head_sha             text,
    artifact_created_at  timestamptz,
    action               text        NOT NULL CHECK (action = 'delete'),
    rule                 text        NOT NULL,
    reason               text        NOT NULL,
    outcome              text        NOT NULL CHECK (outcome = 'pending'),
    http_status          integer,
    error                text,
    executed_at          timestamptz,
    archive_path         text,
    archive_bytes        bigint,
    archive_sha256       text,
    expired              boolean
);
-- At most one DELETE in flight per artifact, whatever the number of replicas.
CREATE UNIQUE INDEX audit_pending_one_per_artifact ON audit_pending (artifact_id);

INSERT INTO audit_pending
SELECT id, run_id, recorded_at, repository, artifact_id, artifact_name, size_in_bytes, branch, head_sha,
       artifact_created_at, action, rule, reason, outcome, http_status, error, executed_at,
       archive_path, archive_bytes, archive_sha256, expired
FROM audit_log_legacy WHERE outcome = 'pending';
DELETE FROM audit_log_legacy WHERE outcome = 'pending';
DROP INDEX audit_log_one_pending_idx;

-- 3. The partitioned log: the same columns and checks as before.
CREATE TABLE audit_log (
    id                   bigint      NOT NULL DEFAULT nextval('audit_log_id_seq'),
    run_id               bigint      NOT NULL CONSTRAINT audit_log_run_id_fkey REFERENCES runs (id),
    recorded_at          timestamptz NOT NULL,
    repository           text        NOT NULL,
    artifact_id          bigint      NOT NULL,
    artifact_name        text        NOT NULL,
    size_in_bytes        bigint      NOT NULL,
    branch               text,
    head_sha             text,
    artifact_created_at  timestamptz,
    -- Named as 0002 named them, which ATTACH PARTITION requires of the legacy table.
    action               text        NOT NULL CONSTRAINT audit_log_action_check CHECK (action IN ('delete', 'keep')),
    rule                 text        NOT NULL,
    reason               text        NOT NULL,
    outcome              text        NOT NULL CONSTRAINT audit_log_outcome_check CHECK (outcome IN (
                             'dry_run', 'pending', 'deleted', 'already_gone', 'failed',
                             'skipped_cap', 'skipped_rate_limit', 'interrupted', 'kept',
                             'changed', 'expired_not_archived')),
    http_status          integer,
    error                text,
    executed_at          timestamptz,
    archive_path         text,
    archive_bytes        bigint,
    archive_sha256       text,
    expired              boolean,
    CONSTRAINT audit_log_check CHECK ((action = 'keep') = (outcome = 'kept')),
    PRIMARY KEY (id, recorded_at)
) PARTITION BY RANGE (recorded_at);
-- The sequence outlives the legacy partition once that is pruned.
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;

CREATE INDEX audit_log_run_idx ON audit_log (run_id, outcome);
CREATE INDEX audit_log_artifact_idx ON audit_log (artifact_id, id DESC);
CREATE INDEX audit_log_rule_idx ON audit_log (rule, executed_at) WHERE action = 'delete';
CREATE INDEX audit_log_executed_deletes_idx ON audit_log (executed_at)
    WHERE action = 'delete' AND executed_at IS NOT NULL;

-- The append-only rule is what it was: no DELETE, no TRUNCATE, and no
-- UPDATE (the one UPDATE 0002 allowed, resolving a pending row, now happens
-- by moving the intent from audit_pending). Dropping a whole expired
-- partition (store.PruneAudit) is the one way rows leave. The row trigger is
-- cloned onto every partition; TRUNCATE triggers are not, so
-- audit_log_ensure_partition adds one to each partition it creates.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % of row % (outcome %) refused', TG_OP, OLD.id, OLD.outcome
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();

-- 4. Which partitions exist and what they cover (range_start NULL: from
-- the beginning). Kept by audit_log_ensure_partition and store.PruneAudit,
-- so that neither has to parse partition bounds out of the catalog.
CREATE TABLE audit_partitions (
    name        text        PRIMARY KEY,
    range_start timestamptz NULL,
    range_end   timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every prune: which partition, what it covered, how many rows went, when,
-- and by whom. Append-only like the log.
CREATE TABLE audit_prunes (
    id          bigserial   PRIMARY KEY,
    partition   text        NOT NULL,
    range_start timestamptz NULL,
    range_end   timestamptz NOT NULL,
    rows        bigint      NOT NULL,
    horizon     timestamptz NOT NULL,
    pruned_at   timestamptz NOT NULL,
    pruned_by   text        NOT NULL,
    db_user     text        NOT NULL DEFAULT current_user,
    hostname    text        NOT NULL DEFAULT ''
);
CREATE FUNCTION audit_prunes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_prunes is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_prunes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_prunes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_prunes_append_only();

-- audit_log_ensure_partition creates the partition of the month (UTC) of
-- at, unless a partition covers it already; true if it created one. An
-- advisory transaction lock serialises creators (key 0x7265746175646974,
-- "retaudit"), so replicas and concurrent writers cannot race.
-- SECURITY DEFINER: the partition is created as the schema's owner (who
-- runs the migrations), so that a role with only the README's GRANTs (no
-- CREATE on the schema) can still write the audit rows of a new month. The
-- function takes only a timestamp and quotes every name it builds; its
-- search_path (set below) is the migration's schema with pg_temp last, so
-- that a caller's temporary table cannot stand in for audit_partitions.
CREATE FUNCTION audit_log_ensure_partition(at timestamptz) RETURNS boolean LANGUAGE plpgsql
    SECURITY DEFINER AS $$
DECLARE
    month timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
    lo    timestamptz := month AT TIME ZONE 'UTC';
    hi    timestamptz := (month + interval '1 month') AT TIME ZONE 'UTC';
    part  text := 'audit_log_p' || to_char(month, 'YYYYMM');
BEGIN
    IF EXISTS (SELECT 1 FROM audit_partitions p
               WHERE (p.range_start IS NULL OR p.range_start <= lo) AND p.range_end > lo) THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(8243122654901725556);
    IF EXISTS (SELECT 1 FROM audit_partitions p
               WHERE (p.range_start IS NULL OR p.range_start <= lo) AND p.range_end > lo) THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
    EXECUTE format('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON %I
                    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate()', part);
    INSERT INTO audit_partitions (name, range_start, range_end) VALUES (part, lo, hi);
    RETURN true;
END
$$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION audit_log_ensure_partition(timestamptz) SET search_path = %I, pg_temp', current_schema());
END
$$;

-- 5. The old rows: attached as they are, or dropped if there were none.
DO $$
DECLARE
    newest timestamptz;
    hi     timestamptz;
BEGIN
    SELECT max(recorded_at) INTO newest FROM audit_log_legacy;
    IF newest IS NULL THEN
        DROP TABLE audit_log_legacy;
        RETURN;
    END IF;
    hi := (date_trunc('month', newest AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    EXECUTE format('ALTER TABLE audit_log ATTACH PARTITION audit_log_legacy FOR VALUES FROM (MINVALUE) TO (%L)', hi);
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log_legacy
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();
    INSERT INTO audit_partitions (name, range_start, range_end) VALUES ('audit_log_legacy', NULL, hi);
END
$$;

SELECT audit_log_ensure_partition(now());
SELECT audit_log_ensure_partition(now() + interval '1 month');

-- 6. Each artifact's latest recorded decision: what a keep is compared with
-- to decide whether it is worth a row. Derived from audit_log (and rebuilt
-- from it here); it is bookkeeping, not history, so it is updated in place.
CREATE TABLE audit_latest (
    artifact_id bigint      PRIMARY KEY,
    audit_id    bigint      NOT NULL,
    run_id      bigint      NOT NULL,
    recorded_at timestamptz NOT NULL,
    action      text        NOT NULL,
    rule        text        NOT NULL
);
INSERT INTO audit_latest (artifact_id, audit_id, run_id, recorded_at, action, rule)
SELECT DISTINCT ON (artifact_id) artifact_id, id, run_id, recorded_at, action, rule
FROM audit_log ORDER BY artifact_id, id DESC;

-- 7. Which runs evaluated which repositories (written with their keep
-- decisions). A run that evaluated a repository decided about each of its
-- artifacts live then; the keeps it did not write are those of the
-- artifacts' latest rows. Runs before this migration wrote a row for every
-- artifact and have no entries here.
CREATE TABLE audit_evaluations (
    run_id       bigint      NOT NULL REFERENCES runs (id),
    repository   text        NOT NULL,
    evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, repository)
);
CREATE INDEX audit_evaluations_repository_idx ON audit_evaluations (repository, run_id);
-- The decisions view finds a repository's artifacts live at a past time.
CREATE INDEX artifacts_by_repository_idx ON artifacts (repository, first_seen_at);

-- 8. decisions: for any artifact and any run, what was decided, by which rule
-- and why, and what became of it. Same columns as audit_log (id is the row
-- that recorded the decision), plus recorded_in_run (the run that wrote that
-- row) and carried (true when the run made the same keep decision as the
-- artifact's previous row and wrote none of its own). The carried branch
-- names a.id and a.repository, not the row's, so that a filter on
-- artifact_id or repository reaches the artifacts index.
CREATE VIEW decisions AS
SELECT l.id, l.run_id, l.recorded_at, l.repository, l.artifact_id, l.artifact_name, l.size_in_bytes, l.branch,
       l.head_sha, l.artifact_created_at, l.action, l.rule, l.reason, l.outcome, l.http_status, l.error,
       l.executed_at, l.archive_path, l.archive_bytes, l.archive_sha256, l.expired,
       l.run_id AS recorded_in_run, false AS carried
FROM audit_log l
UNION ALL
SELECT p.id, p.run_id, p.recorded_at, p.repository, p.artifact_id, p.artifact_name, p.size_in_bytes, p.branch,
       p.head_sha, p.artifact_created_at, p.action, p.rule, p.reason, p.outcome, p.http_status, p.error,
       p.executed_at, p.archive_path, p.archive_bytes, p.archive_sha256, p.expired,
       p.run_id, false
FROM audit_pending p
UNION ALL
SELECT k.id, e.run_id, k.recorded_at, a.repository, a.id, k.artifact_name, k.size_in_bytes, k.branch,
       k.head_sha, k.artifact_created_at, 'keep'::text, k.rule, k.reason, 'kept'::text, NULL::integer, NULL::text,
       NULL::timestamptz, NULL::text, NULL::bigint, NULL::text, k.expired,
       k.run_id, true
FROM audit_evaluations e
JOIN artifacts a ON a.repository = e.repository AND a.first_seen_at <= e.evaluated_at
                AND (a.gone_at IS NULL OR a.gone_at > e.evaluated_at)
CROSS JOIN LATERAL (
    SELECT x.* FROM audit_log x
    WHERE x.artifact_id = a.id AND x.run_id <= e.run_id AND x.recorded_at <= e.evaluated_at
    ORDER BY x.id DESC LIMIT 1
) k
WHERE k.run_id < e.run_id AND k.action = 'keep'
  -- A row the run itself recorded after its evaluation began (a delete
  -- decision the janitor reached later, a later chunk of keeps) is the run's
  -- decision: nothing is carried over it.
  AND NOT EXISTS (SELECT 1 FROM audit_log y WHERE y.artifact_id = a.id AND y.run_id = e.run_id)
  AND NOT EXISTS (SELECT 1 FROM audit_pending y WHERE y.artifact_id = a.id AND y.run_id = e.run_id);

-- pending_deletions and run_summary mean what they meant (run_summary reads
-- only runs and is unchanged); pending_deletions is recreated as in 0004,
-- over the partitioned log.
CREATE VIEW pending_deletions AS
WITH latest AS (
    SELECT r.id, r.started_at
    FROM runs r
    WHERE r.dry_run AND r.status IN ('succeeded', 'partial')
      AND EXISTS (SELECT 1 FROM audit_log d WHERE d.run_id = r.id AND d.outcome = 'dry_run')
    ORDER BY r.id DESC
    LIMIT 1
)
SELECT a.run_id, a.repository, a.artifact_id, a.artifact_name, a.size_in_bytes, a.branch,
       a.artifact_created_at, a.rule, a.reason,
       latest.started_at AS run_started_at,
       coalesce(a.expired, false) AS expired,
       CASE WHEN coalesce(a.expired, false) THEN 0 ELSE a.size_in_bytes END AS reclaimable_bytes
FROM audit_log a
JOIN latest ON a.run_id = latest.id
LEFT JOIN artifacts x ON x.id = a.artifact_id
WHERE a.outcome = 'dry_run'
  AND x.gone_at IS NULL
ORDER BY a.artifact_created_at NULLS LAST, a.artifact_id;
