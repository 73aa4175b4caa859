-- Bulk operations (issue 21 §2, M11): a sheet of account openings (批量开户)
-- or recharges (批量充值) checked whole, then run row by row by the batch
-- workflow bulk/<id>. A batch is found again by its sheet's content hash, so
-- an upload sent twice runs once; each recharge row is also idempotent by its
-- transaction number (recharges.transaction_no).
create table bulk_batches (
    id           uuid primary key,
    project_id   uuid not null references projects(id),
    kind         text not null check (kind in ('openings','recharges')),
    content_hash text not null,
    status       text not null default 'running' check (status in ('running','completed')),
    row_count    int not null,
    workflow_id  text not null,
    created_by   uuid not null references operators(id),
    created_at   timestamptz not null default now(),
    finished_at  timestamptz,
    unique (project_id, kind, content_hash)
);

create table bulk_rows (
    batch_id       uuid not null references bulk_batches(id),
    line           int not null,
    meter_no       text not null,
    transaction_no text not null default '',
    amount         numeric(14,2),
    customer_name  text not null default '',
    phone          text not null default '',
    unit_code      text not null default '',
    -- pending: not reached yet; running: its opening or recharge started;
    -- done / failed: its outcome is recorded (outcome: the recharge status
    -- or "opened"; detail: why it failed).
    state          text not null default 'pending' check (state in ('pending','running','done','failed')),
    outcome        text not null default '',
    detail         text not null default '',
    recharge_id    uuid,
    account_no     text not null default '',
    updated_at     timestamptz not null default now(),
    primary key (batch_id, line)
);
