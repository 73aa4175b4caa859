-- Master/sub meters and common-area (公摊) allocation (M9).

-- Floor area of a unit (m²): the weight of the by-area allocation rule.
-- "if not exists": the property-fee work may add the same column (per-m² fees).
alter table units add column if not exists area numeric(12,2) not null default 0 check (area >= 0);

-- A master meter's sub meters (总表/分表): a sub meter has one master.
-- merged (合并账户): the master's wallet pays the sub meter's platform-side
-- consumption, and the master's arrears switch the sub meter off.
create table meter_sub_meters (
    master_meter_id uuid not null references meters(id),
    sub_meter_id    uuid primary key references meters(id),
    merged          boolean not null default false,
    check (master_meter_id <> sub_meter_id)
);
create index meter_sub_meters_master on meter_sub_meters(master_meter_id);

-- The allocation rule of a common-area meter: its consumption in a period is
-- shared among the listed units by area, by their meters' consumption, or by
-- fixed ratios (ratio per unit; ignored by the other methods).
create table common_area_rules (
    meter_id   uuid primary key references meters(id),
    project_id uuid not null references projects(id),
    method     text not null check (method in ('area','consumption','ratio')),
    updated_at timestamptz not null default now()
);
create table common_area_rule_units (
    meter_id uuid not null references common_area_rules(meter_id) on delete cascade,
    unit_id  uuid not null references units(id),
    ratio    numeric(12,6) not null default 0 check (ratio >= 0),
    primary key (meter_id, unit_id)
);

-- One allocation per common-area meter and period (YYYY-MM): the figures
-- it used and each unit's booked share (ledger key per unit and period).
create table common_area_allocations (
    meter_id    uuid not null references meters(id),
    period      text not null check (period ~ '^[0-9]{4}-[0-9]{2}$'),
    project_id  uuid not null references projects(id),
    method      text not null,
    start_kwh   numeric(14,2) not null,
    end_kwh     numeric(14,2) not null,
    kwh         numeric(14,2) not null,
    price       numeric(18,4) not null,
    total       numeric(18,2) not null,
    created_at  timestamptz not null default now(),
    primary key (meter_id, period)
);
create table common_area_shares (
    meter_id  uuid not null,
    period    text not null,
    unit_id   uuid not null references units(id),
    meter_no  text not null, -- the unit's meter whose wallet pays
    weight    numeric(18,6) not null,
    amount    numeric(18,2) not null,
    entry_key text not null unique,
    primary key (meter_id, period, unit_id),
    foreign key (meter_id, period) references common_area_allocations(meter_id, period)
);
