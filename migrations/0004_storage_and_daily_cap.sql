-- 0004: count only the storage a deletion frees; the daily deletion cap; a
-- truthful pending_deletions.
--
-- GitHub frees an expired artifact's storage itself; only its listing stays
-- until it is deleted. So a deletion of an expired artifact reclaims nothing,
-- and bytes_reclaimed / would_reclaim leave such artifacts out from now on.
-- audit_log.expired records, per decision, whether the artifact had expired
-- when it was decided on (NULL for rows written before this migration: not
-- known), and runs.expired_listings how many expired listings a run deleted
-- (or, in dry-run, would have).

ALTER TABLE audit_log ADD COLUMN expired boolean;
ALTER TABLE runs ADD COLUMN expired_listings integer NOT NULL DEFAULT 0;

-- MAX_DELETIONS_PER_DAY counts the deletions attempted in a rolling 24 hours
-- (store.DeletionsSince); this keeps that count off a scan of the whole log.
CREATE INDEX audit_log_executed_deletes_idx ON audit_log (executed_at)
    WHERE action = 'delete' AND executed_at IS NOT NULL;

CREATE OR REPLACE VIEW run_summary AS
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
       r.error,
       r.expired_listings
FROM runs r;

-- The would-delete list of the latest dry-run that planned deletions (a
-- failed or still running dry-run does not count: its list may be
-- incomplete), leaving out artifacts that have gone since (deleted by an
-- apply or a later run, or found gone by a scan), oldest first.
-- run_started_at says which run it is; reclaimable_bytes is 0 for an expired
-- artifact, whose storage GitHub has already freed.
DROP VIEW pending_deletions;
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
