-- Scheduled reading (M3): every sweep's readings, lost-contact tracking and
-- the device events the alarm issue consumes.

-- One row per meter and sweep. read_at is the sweep's slot time, not the
-- moment the request went out, so a retried batch writes the same keys and
-- duplicates nothing. Partitioned by month (UTC) on read_at: a month is
-- dropped or archived as a whole, and reports scan only the months asked for.
create table readings (
    meter_id       uuid not null,
    read_at        timestamptz not null,
    taken_at       timestamptz not null, -- when the meter answered
    energy_kwh     numeric(14,2) not null,
    sharp_kwh      numeric(14,2) not null, -- 尖
    peak_kwh       numeric(14,2) not null, -- 峰
    flat_kwh       numeric(14,2) not null, -- 平
    valley_kwh     numeric(14,2) not null, -- 谷
    voltage_v      numeric(8,1) not null,
    current_a      numeric(10,2) not null,
    power_kw       numeric(12,3) not null,
    remaining      numeric(18,2) not null,
    purchase_count integer not null,
    relay          smallint not null,
    mode           smallint not null,
    status_flags   integer not null,
    -- A unique constraint on a partitioned table must include the partition key.
    primary key (meter_id, read_at)
) partition by range (read_at);

-- readings_partition creates the month partition holding at (UTC months) if
-- it is missing and returns its name. Sweeps call it for this month and the
-- next before writing, so a partition always exists ahead of time. The
-- advisory lock is taken only when the partition is missing: parallel sweep
-- batches racing to create it would otherwise fail on the catalog.
create function readings_partition(at timestamptz) returns text language plpgsql as $$
declare
    first timestamptz := date_trunc('month', at, 'UTC');
    name  text := 'readings_' || to_char(first at time zone 'UTC', 'YYYY_MM');
begin
    if to_regclass(name) is null then
        perform pg_advisory_xact_lock(hashtext('readings_partition'));
        if to_regclass(name) is null then
            execute format('create table %I partition of readings for values from (%L) to (%L)',
                name, first, first + interval '1 month');
        end if;
    end if;
    return name;
end $$;

select readings_partition(now()), readings_partition(now() + interval '1 month');

-- Consecutive failed reads per meter; a meter is lost after 3 (sweep
-- activities raise the event). last_sweep_at makes counting idempotent: a
-- retried batch of the same sweep does not count a failure twice.
create table meter_contact (
    meter_id      uuid primary key references meters(id),
    failures      integer not null default 0,
    lost          boolean not null default false,
    last_error    text not null default '',
    last_sweep_at timestamptz not null,
    last_ok_at    timestamptz
);

-- Whether a gateway could be connected at its last sweep.
create table gateway_contact (
    gateway_id    uuid primary key references gateways(id),
    reachable     boolean not null,
    last_error    text not null default '',
    last_sweep_at timestamptz not null,
    since         timestamptz not null -- when reachable last changed
);

-- Device events: raised when contact is lost, cleared when it is back. At
-- most one open event per kind and subject.
create table device_events (
    id         bigserial primary key,
    project_id uuid not null references projects(id),
    kind       text not null check (kind in ('meter_lost_contact','gateway_lost_contact')),
    subject    uuid not null, -- meters.id or gateways.id, by kind
    subject_no text not null, -- meter number or gateway code, for people
    detail     text not null default '',
    raised_at  timestamptz not null,
    cleared_at timestamptz
);
create unique index device_events_open on device_events(kind, subject) where cleared_at is null;
create index device_events_project_raised on device_events(project_id, raised_at desc);

-- Every sweep rewrites every meter's latest state: leave room on each page so
-- the update stays on the page (HOT) and the primary key is not touched.
alter table meter_state set (fillfactor = 70);
