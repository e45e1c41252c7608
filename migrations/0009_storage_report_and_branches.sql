-- 0009: what a run saved in the unit GitHub bills (GB-hours), and the
-- branches of the repositories whose policy asks whether a branch is gone.
--
-- GitHub bills artifact storage by the hour; a deletion saves the artifact's
-- size × the hours it had left until expires_at, and nothing for an
-- artifact that has expired, was already gone or has no expires_at. The
-- arithmetic lives in internal/savings; store.RecordRunSavings writes its
-- result here when a run ends. GB = 10^9 bytes. Runs recorded before this
-- migration read 0 and storage_live_bytes NULL: not computed.

ALTER TABLE runs
    ADD COLUMN gb_hours_saved         double precision NOT NULL DEFAULT 0,
    ADD COLUMN gb_months_saved        double precision NOT NULL DEFAULT 0,
    ADD COLUMN gb_hours_would_save    double precision NOT NULL DEFAULT 0,
    ADD COLUMN gb_months_would_save   double precision NOT NULL DEFAULT 0,
    -- Storage still accruing when the run ended: bytes of the live
    -- artifacts that had not expired, over every repository retentiond
    -- knows. Each hour adds this many bytes × 1 h to the bill.
    ADD COLUMN storage_live_bytes     bigint NULL;

-- The report's trend reads live storage at the end of each complete scan.
CREATE INDEX scans_complete_finished ON scans (finished_at) WHERE status = 'complete' AND kind = 'repository';

-- Branches of a repository as its latest listing saw them, for policies
-- with branch_deleted. One row per repository in branch_listings, and one
-- per page of its latest complete listing in branch_pages, with the page's
-- ETag so the next listing can ask with If-None-Match: a 304 reuses the
-- stored names of that page. Every page has its own ETag because the
-- branch list has no total in its body: a branch deleted on page 3 leaves
-- page 1 as it was. A failed listing keeps the pages of the last complete
-- one but records the failure: evaluation then blocks every decision that
-- depends on the branches of that repository.
CREATE TABLE branch_listings (
    repository text        PRIMARY KEY,
    listed_at  timestamptz NOT NULL,
    status     text        NOT NULL CHECK (status IN ('complete', 'failed')),
    pages      integer     NOT NULL DEFAULT 0,
    branches   integer     NOT NULL DEFAULT 0,
    requests   integer     NOT NULL DEFAULT 0,
    not_modified integer   NOT NULL DEFAULT 0,
    error      text        NULL,
    CHECK ((status = 'failed') = (error IS NOT NULL))
);

CREATE TABLE branch_pages (
    repository text    NOT NULL REFERENCES branch_listings (repository) ON DELETE CASCADE,
    page       integer NOT NULL CHECK (page > 0),
    etag       text    NULL,
    names      text[]  NOT NULL,
    PRIMARY KEY (repository, page)
);

-- run_summary gains the per-run figures of 0006 (discovery), 0007 (scan
-- modes and the request budget) and this migration (savings), after its
-- columns of 0004, which keep their names, order and meaning.
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
       r.expired_listings,
       r.repositories_discovered,
       r.repositories_archived,
       r.repositories_excluded,
       r.owners_failed,
       r.repositories_skipped,
       r.requests_estimated,
       r.scan_requests,
       r.scan_requests_costed,
       r.gb_hours_saved,
       r.gb_months_saved,
       r.gb_hours_would_save,
       r.gb_months_would_save,
       r.storage_live_bytes
FROM runs r;
