-- 0001: the artifacts retentiond knows about and the scans that found them.
--
-- How a repository scan reaches the artifacts table (the design rule every
-- writer follows):
--
--  1. StartScan inserts a scans row with status 'running'.
--  2. Each page from GitHub is streamed into scan_artifacts with COPY as it
--     arrives. Memory stays bounded by one page, and COPY is the fastest way
--     into PostgreSQL.
--  3. Only when the listing is complete is the scan merged into artifacts, in
--     ONE transaction: upsert every staged artifact (an insert sets
--     first_seen_at; an update refreshes every field, last_seen_at and
--     last_scan_id and clears gone_at); then set gone_at to the scan's finish
--     time on that repository's live artifacts that were not in the scan AND
--     whose last_seen_at is before the scan's started_at; then delete the
--     staging rows and mark the scan complete with its counts.
--     The last_seen_at condition matters: a run-scoped scan may have inserted
--     or refreshed an artifact after this listing passed the page it would be
--     on; that artifact exists, so it must not be marked gone.
--  4. A failed scan deletes its staging rows and marks the scan failed with
--     its error. The artifacts table is left exactly as it was: a partial
--     listing proves nothing about which artifacts are gone.
--
-- A run-scoped scan (kind 'workflow_run') lists one workflow run's artifacts;
-- it upserts them straight into artifacts and never marks anything gone,
-- because it does not see the whole repository.
--
-- Merges only apply observations newer than what the row already records
-- (see internal/store), so a slow scan that finishes late cannot resurrect an
-- artifact that a newer scan found gone or overwrite fresher fields.

CREATE TABLE scans (
    id              bigserial   PRIMARY KEY,
    repository      text        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('repository', 'workflow_run')),
    workflow_run_id bigint      NULL,
    -- The janitor run that asked for this scan. The runs table arrives in a
    -- later migration, which may add the foreign key.
    run_id          bigint      NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NULL,
    status          text        NOT NULL DEFAULT 'running'
                                CHECK (status IN ('running', 'complete', 'failed')),
    pages           int         NOT NULL DEFAULT 0,
    artifacts_seen  int         NOT NULL DEFAULT 0,
    artifacts_new   int         NOT NULL DEFAULT 0,
    artifacts_gone  int         NOT NULL DEFAULT 0,
    requests        int         NOT NULL DEFAULT 0,
    -- GitHub's total_count from the listing; NULL when no page was read.
    total_count     int         NULL,
    error           text        NULL,
    CHECK ((kind = 'workflow_run') = (workflow_run_id IS NOT NULL)),
    CHECK ((status = 'running') = (finished_at IS NULL))
);

-- "Latest scan (of a kind) of repository X", and the latest per repository.
CREATE INDEX scans_latest ON scans (repository, kind, started_at DESC, id DESC);
-- Finding scans left running by a process that died.
CREATE INDEX scans_running ON scans (started_at) WHERE status = 'running';

CREATE TABLE artifacts (
    -- GitHub artifact ids are global, so the id alone is the key.
    id                   bigint      PRIMARY KEY,
    -- owner/name, lower-cased (artifact.ParseRepository).
    repository           text        NOT NULL,
    node_id              text        NOT NULL,
    name                 text        NOT NULL,
    size_in_bytes        bigint      NOT NULL,
    url                  text        NOT NULL,
    archive_download_url text        NOT NULL,
    expired              boolean     NOT NULL,
    created_at           timestamptz NULL,
    expires_at           timestamptz NULL,
    updated_at           timestamptz NULL,
    digest               text        NULL,
    -- From workflow_run; all NULL when the API gave workflow_run: null.
    workflow_run_id      bigint      NULL,
    repository_id        bigint      NULL,
    head_repository_id   bigint      NULL,
    branch               text        NULL,
    head_sha             text        NULL,
    -- Bookkeeping: when retentiond first and last saw the artifact listed,
    -- when a complete repository scan found it missing, and which scan saw
    -- it last. last_scan_id has no foreign key so that scan history can be
    -- pruned on its own and the merge's hot path fires no per-row trigger.
    first_seen_at        timestamptz NOT NULL,
    last_seen_at         timestamptz NOT NULL,
    gone_at              timestamptz NULL,
    last_scan_id         bigint      NULL
);

-- The policy engine loads all live artifacts of one repository, and the merge
-- looks for live artifacts of the scanned repository that were not seen.
-- Lookup by id uses the primary key.
CREATE INDEX artifacts_live_by_repository ON artifacts (repository, id) WHERE gone_at IS NULL;

-- Staging for in-progress scans. UNLOGGED: it skips the WAL, which makes COPY
-- cheaper, and PostgreSQL empties it after a crash; that only loses scans
-- that were still running, which never touched artifacts anyway.
--
-- Keyed by (scan_id, id) but deliberately NOT unique: GitHub pages are
-- offsets computed per request, so an artifact created during a listing
-- shifts the next page and the same artifact can arrive twice. The merge
-- keeps the latest sighting of each id.
CREATE UNLOGGED TABLE scan_artifacts (
    scan_id              bigint      NOT NULL,
    seen_at              timestamptz NOT NULL,
    id                   bigint      NOT NULL,
    node_id              text        NOT NULL,
    name                 text        NOT NULL,
    size_in_bytes        bigint      NOT NULL,
    url                  text        NOT NULL,
    archive_download_url text        NOT NULL,
    expired              boolean     NOT NULL,
    created_at           timestamptz NULL,
    expires_at           timestamptz NULL,
    updated_at           timestamptz NULL,
    digest               text        NULL,
    workflow_run_id      bigint      NULL,
    repository_id        bigint      NULL,
    head_repository_id   bigint      NULL,
    branch               text        NULL,
    head_sha             text        NULL
);

CREATE INDEX scan_artifacts_scan_id ON scan_artifacts (scan_id, id);
