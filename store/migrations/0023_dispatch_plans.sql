-- Timed and smart dispatch plans created from the API (issue 8, 调度充电):
-- the workflow input as started (a retry with the same Idempotency-Key
-- starts the same plan) and who created and cancelled it. The plan's live
-- state is its workflow dispatch/<station_id>/<plan_id>.
create table dispatch_plans (
    id              uuid primary key,
    project_id      uuid not null references projects(id),
    station_id      char(20) not null references charging_stations(station_id),
    plan_id         text not null,
    kind            text not null check (kind in ('timed','smart')),
    workflow_id     text not null unique,
    input           jsonb not null,  -- workflows/dispatch TimedInput or SmartInput
    request_hash    text not null,   -- sha256 of the request, for idempotency
    idempotency_key text,
    created_by      uuid references operators(id),
    created_at      timestamptz not null default now(),
    cancelled_at    timestamptz,
    cancelled_by    uuid references operators(id),
    unique (station_id, plan_id),
    unique (project_id, idempotency_key)
);
create index dispatch_plans_project on dispatch_plans(project_id, created_at desc, id desc);
