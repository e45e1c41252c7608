-- 0003: GitHub webhook deliveries that serve's POST /webhook received.
--
-- One row per X-GitHub-Delivery id, which makes deliveries idempotent: a
-- replayed or redelivered id is recognised and not scanned twice. GitHub keeps
-- the same id when someone redelivers a delivery, so a delivery whose scan
-- failed (status 'failed') is re-armed by a redelivery instead of being
-- refused; see store.RecordDelivery.
--
-- A row starts 'queued' (accepted, waiting for the background scan) and ends
-- exactly once as 'scanned' or 'failed', or is recorded 'ignored' at once
-- (repository not in the policy, action other than 'completed'). Only
-- workflow_run deliveries are recorded; pings and other events are not.
-- Rows older than the retention are pruned by the handler.

CREATE TABLE webhook_deliveries (
    delivery_id     text        PRIMARY KEY,
    event           text        NOT NULL,
    action          text        NOT NULL,
    -- owner/name, lower-cased (artifact.ParseRepository).
    repository      text        NOT NULL,
    workflow_run_id bigint      NULL,
    received_at     timestamptz NOT NULL,
    processed_at    timestamptz NULL,
    status          text        NOT NULL CHECK (status IN ('queued', 'scanned', 'failed', 'ignored')),
    -- The run-scoped scan the delivery started (no foreign key, so scan
    -- history can be pruned on its own).
    scan_id         bigint      NULL,
    -- For 'failed': what went wrong; for 'ignored': why it was ignored.
    error           text        NULL,
    CHECK ((status = 'queued') = (processed_at IS NULL))
);

-- Pruning deletes by age.
CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at);
