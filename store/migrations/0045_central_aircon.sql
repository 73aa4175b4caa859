-- Central air-conditioning billing (中央空调计费, issue 20 §7, M14): a shared
-- AC system is a plant meter (an existing metering point measuring the
-- chiller/plant's energy) and indoor units (室内机), each billed to a unit;
-- the plant's energy of a period is shared among the indoor units by the
-- system's rule from the counters its controller keeps per indoor unit.

create table aircon_systems (
    id                 uuid primary key,
    project_id         uuid not null references projects(id),
    code               text not null,
    name               text not null default '',
    plant_meter_id     uuid not null references meters(id),
    -- The controller's Modbus TCP address (host:port) and register map.
    controller_address text not null,
    profile            text not null,
    method             text not null check (method in ('runtime_capacity','valve_time')),
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    unique (project_id, code)
);

-- An indoor unit answers as controller_unit (Modbus unit id) on the
-- system's controller and is billed to unit_id.
create table aircon_indoor_units (
    id              uuid primary key,
    system_id       uuid not null references aircon_systems(id),
    code            text not null,
    unit_id         uuid not null references units(id),
    controller_unit smallint not null check (controller_unit between 1 and 247),
    unique (system_id, code),
    unique (system_id, controller_unit)
);

-- The controller's counters read for a period bound (the start or end of a
-- billing month): the first read for a bound is kept (a retry or a second
-- run reads nothing new), read_at says when it was actually taken.
create table aircon_readings (
    system_id      uuid not null references aircon_systems(id),
    bound          timestamptz not null,
    indoor_unit_id uuid not null references aircon_indoor_units(id),
    read_at        timestamptz not null,
    runtime_min    bigint not null check (runtime_min >= 0),
    valve_open_min bigint not null check (valve_open_min >= 0),
    capacity_kw    numeric(10,2) not null check (capacity_kw >= 0),
    running        boolean not null,
    primary key (system_id, bound, indoor_unit_id)
);

-- One allocation per system and period (YYYY-MM) with the plant's figures,
-- and each indoor unit's inputs, weight and booked share (ledger key per
-- indoor unit and period).
create table aircon_allocations (
    system_id   uuid not null references aircon_systems(id),
    period      text not null check (period ~ '^[0-9]{4}-[0-9]{2}$'),
    project_id  uuid not null references projects(id),
    method      text not null,
    plant_meter text not null,
    start_kwh   numeric(14,2) not null,
    end_kwh     numeric(14,2) not null,
    ratio       bigint not null, -- CT × PT
    kwh         numeric(14,2) not null,
    price       numeric(18,4) not null,
    total       numeric(18,2) not null,
    created_at  timestamptz not null default now(),
    primary key (system_id, period)
);
create table aircon_shares (
    system_id          uuid not null,
    period             text not null,
    indoor_unit_id     uuid not null references aircon_indoor_units(id),
    unit_id            uuid not null references units(id),
    meter_no           text not null, -- the unit's meter whose wallet pays
    start_runtime_min  bigint not null,
    end_runtime_min    bigint not null,
    start_valve_min    bigint not null,
    end_valve_min      bigint not null,
    capacity_kw        numeric(10,2) not null,
    weight             numeric(18,4) not null,
    amount             numeric(18,2) not null,
    entry_key          text not null unique,
    primary key (system_id, period, indoor_unit_id),
    foreign key (system_id, period) references aircon_allocations(system_id, period)
);
