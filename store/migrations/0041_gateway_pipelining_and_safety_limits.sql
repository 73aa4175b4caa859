-- Gateways that cannot pipeline (issue 20 §10): the sweep's client finds a
-- Modbus TCP gateway that answers a request alone but drops the second one
-- in flight, falls back to one request at a time, and records it here so
-- that later sweeps (and a restarted worker) start one at a time.
alter table gateways add column pipelining text check (pipelining in ('unsupported'));
alter table gateways add column pipelining_detected_at timestamptz;

-- Safety limits (安全用电, issue 20 §3, seed 002) of a project (meter_id null)
-- or one meter (its row replaces the project's). A null limit is that check
-- off. tou_limits is [{"from":"HH:MM","to":"HH:MM","kw":"x.xxx"}], local time
-- (utc_offset_minutes). A trip keeps the meter off 3 minutes (seed 002).
create table safety_limits (
    id                    bigserial primary key,
    project_id            uuid not null references projects(id),
    meter_id              uuid references meters(id),
    max_load_kw           numeric(10,3) check (max_load_kw > 0),
    malignant_start_kw    numeric(10,3) check (malignant_start_kw > 0),
    allowed_trips         integer not null default 3 check (allowed_trips >= 0),
    tou_limits            jsonb not null default '[]',
    utc_offset_minutes    smallint not null default 480,
    updated_at            timestamptz not null default now(),
    unique nulls not distinct (project_id, meter_id)
);

-- The state of each meter's safety/<meterNo> workflow, written by it (the
-- API reads this, not search attributes).
create table safety_state (
    meter_id      uuid primary key references meters(id),
    status        text not null check (status in ('normal','tripped','locked_out')),
    trips         integer not null default 0,
    last_trip_at  timestamptz,
    last_reason   text not null default '',
    restored_by   text not null default '',
    restored_at   timestamptz,
    updated_at    timestamptz not null default now()
);
