-- 0006: the repositories that repositories: patterns (acme/*) discovered.
--
-- A pattern is resolved at the start of every run and scan by listing the
-- owner's repositories. Each listed repository is recorded here by GitHub's
-- repository id, which survives a rename: when a listing shows a known id
-- under a new name, retentiond relinks what it stored under the old name
-- (artifacts.repository and scans.repository) to the new one in the same
-- transaction, so a rename never looks like a repository whose artifacts
-- are all gone. audit_log is append-only and keeps the name each decision
-- was made under; renamed_from says what it was.
--
-- A repository that stops being listed (deleted, transferred, or no longer
-- matching) keeps its row: last_seen_at says when it was last listed.

CREATE TABLE repositories (
    id            bigint      PRIMARY KEY,
    -- owner/name, lower-cased, as the owner's listing last showed it.
    full_name     text        NOT NULL,
    owner         text        NOT NULL,
    archived      boolean     NOT NULL,
    fork          boolean     NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    -- The name before the latest rename retentiond saw, and when it saw it.
    renamed_from  text        NULL,
    renamed_at    timestamptz NULL
);

-- Not unique: a name freed by a rename or a deletion can be taken by a new
-- repository while the old row stays, until the old id is listed again.
CREATE INDEX repositories_by_name ON repositories (full_name);
CREATE INDEX repositories_by_owner ON repositories (owner, full_name);

-- The latest complete listing of each owner: which endpoint served it and
-- each page's ETag, so that the next listing can ask conditionally (every
-- page 304: nothing changed, and the repositories last seen at listed_at
-- stand, at no cost to the rate limit).
CREATE TABLE owner_listings (
    owner     text        PRIMARY KEY,
    is_user   boolean     NOT NULL,
    etags     text[]      NOT NULL,
    listed_at timestamptz NOT NULL
);

-- What discovery found at the start of each run (0 for runs before it).
ALTER TABLE runs
    ADD COLUMN repositories_discovered integer NOT NULL DEFAULT 0,
    ADD COLUMN repositories_archived   integer NOT NULL DEFAULT 0,
    ADD COLUMN repositories_excluded   integer NOT NULL DEFAULT 0,
    ADD COLUMN owners_failed           integer NOT NULL DEFAULT 0;
