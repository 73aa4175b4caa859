-- Remote meter commands (远程控制): single commands and batches over many meters.
-- Every command is logged with what was written (request), what the meter
-- showed when read back (response) and the result (status, failure).

create table meter_batches (
    id              uuid primary key,
    project_id      uuid not null references projects(id),
    command         text not null,
    total           integer not null check (total > 0),
    done            integer not null default 0,
    failed          integer not null default 0,
    status          text not null check (status in ('running','completed','completed_with_failures')),
    workflow_id     text not null,
    -- a re-dispatch is a new batch over the failed meters of this one; one per batch
    redispatch_of   uuid unique references meter_batches(id),
    idempotency_key text,
    request_hash    text not null default '',
    created_by      uuid not null references operators(id),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    completed_at    timestamptz
);
create unique index meter_batches_idempotency on meter_batches(project_id, idempotency_key)
    where idempotency_key is not null;

create table meter_commands (
    id              uuid primary key,
    project_id      uuid not null references projects(id),
    meter_id        uuid not null references meters(id),
    meter_no        text not null,
    command         text not null,
    args            jsonb not null default '{}',
    status          text not null check (status in ('pending','dispatching','done','failed')),
    batch_id        uuid references meter_batches(id),
    workflow_id     text not null,
    request         jsonb,          -- the device write of the last attempt
    response        jsonb,          -- the meter's state read back after it
    failure         text not null default '',
    attempts        integer not null default 0,
    idempotency_key text,
    created_by      uuid not null references operators(id),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    completed_at    timestamptz
);
create unique index meter_commands_idempotency on meter_commands(project_id, idempotency_key)
    where idempotency_key is not null;
create index meter_commands_batch on meter_commands(batch_id, meter_no) where batch_id is not null;
create index meter_commands_meter on meter_commands(meter_id, created_at desc);
