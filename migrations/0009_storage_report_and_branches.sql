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
