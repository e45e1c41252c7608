-- 0007: incremental scans and the request budget.
--
-- scan_state is what a repository's scans have learned, one row per
-- repository, written only by a repository scan that completed:
--
--  * etag / etag_total_count: page 1's ETag, and the total_count that page
--    reported, from the latest complete scan whose result left the database
--    agreeing with that total. The next scan sends it as If-None-Match; a 304
--    proves the listing is as it was, provided the live artifacts in the
--    database still number etag_total_count. NULL when GitHub sent no ETag or
--    the scan could not vouch for it.
--  * max_artifact_id: the highest artifact id a repository scan listed. An
--    incremental scan reads pages newest first until it reaches an id at or
--    below it.
--  * last_full_scan_at: when the latest full listing completed. Only a full
--    listing may mark artifacts gone; FULL_SCAN_INTERVAL bounds how old it
--    may get.
--  * last_complete_at: when any repository scan of it last completed, for the
--    budget's "least recently completed first".
--
-- The live count an incremental scan reconciles GitHub's total_count against
-- is not stored here: it is counted from artifacts (gone_at IS NULL), so
-- deletions retentiond made itself (which set gone_at) are accounted for and
-- never force a full rescan.
CREATE TABLE scan_state (
    repository        text        PRIMARY KEY,
    etag              text        NULL,
    etag_total_count  int         NULL,
    max_artifact_id   bigint      NOT NULL DEFAULT 0,
    last_full_scan_at timestamptz NULL,
    last_complete_at  timestamptz NULL,
    updated_at        timestamptz NOT NULL,
    CHECK ((etag IS NULL) = (etag_total_count IS NULL))
);

-- mode: how a repository scan listed. 'full' read every page (the only mode
-- that marks artifacts gone), 'incremental' read pages newest first until it
-- reached known ids and reconciled total_count, 'not_modified' got a 304 for
-- page 1. NULL for workflow-run scans and while a scan is running.
-- costed_requests: the requests that counted against the primary rate limit
-- (a 304 to a conditional request does not).
ALTER TABLE scans ADD COLUMN mode text NULL CHECK (mode IN ('full', 'incremental', 'not_modified'));
ALTER TABLE scans ADD COLUMN costed_requests int NOT NULL DEFAULT 0;

-- Before this migration every repository scan listed every page and no
-- request was conditional, so every request cost rate limit.
UPDATE scans SET mode = 'full' WHERE kind = 'repository' AND status = 'complete';
UPDATE scans SET costed_requests = requests;

-- A repository whose latest repository scan completed starts with what that
-- scan proved: its time as the last full scan, and the highest id listed.
-- No ETag: the first scan after the upgrade reads page 1 and reconciles.
INSERT INTO scan_state (repository, max_artifact_id, last_full_scan_at, last_complete_at, updated_at)
SELECT s.repository,
       coalesce((SELECT max(a.id) FROM artifacts a WHERE a.repository = s.repository), 0),
       s.finished_at, s.finished_at, s.finished_at
FROM (SELECT DISTINCT ON (repository) repository, status, finished_at
      FROM scans WHERE kind = 'repository'
      ORDER BY repository, started_at DESC, id DESC) s
WHERE s.status = 'complete';

-- The budget: repositories a run left unscanned to keep RATE_LIMIT_RESERVE
-- of the rate limit (they got no deletions and did not fail), the requests
-- it estimated before scanning, and the requests its scans made and how
-- many of them counted against the rate limit.
ALTER TABLE runs ADD COLUMN repositories_skipped int NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN requests_estimated int NULL;
ALTER TABLE runs ADD COLUMN scan_requests int NULL;
ALTER TABLE runs ADD COLUMN scan_requests_costed int NULL;
