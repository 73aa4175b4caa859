-- Charging operations (issue 6, C4–C7): customer groups, versioned TOU
-- pricing strategies, discounts, monthly terminal packages, vehicles (VIN
-- start) and charging orders. Money columns are yuan; the payment itself
-- is a ledger entry keyed charging/<order id>.

-- Customer groups (C5) of people and enterprises.
create table customer_groups (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    name       text not null,
    kind       text not null check (kind in ('person','enterprise')),
    created_at timestamptz not null default now(),
    unique (project_id, name)
);

create table customer_group_members (
    group_id    uuid not null references customer_groups(id) on delete cascade,
    customer_id uuid not null references customers(id),
    primary key (group_id, customer_id)
);

-- Pricing strategies (C4): versions with effective periods as
-- domain/chargeprice.Version in jsonb; a station uses one strategy.
create table pricing_strategies (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    code       text not null,
    name       text not null default '',
    versions   jsonb not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (project_id, code)
);

create table station_pricing (
    station_id  char(20) primary key references charging_stations(station_id),
    strategy_id uuid not null references pricing_strategies(id)
);

-- Discount strategies bound to groups and stations (domain/chargeprice.Discount).
create table charging_discounts (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    name       text not null,
    spec       jsonb not null,
    created_at timestamptz not null default now()
);

-- Monthly terminal packages (包月): service fee waived for quota_kwh in month.
create table charging_packages (
    id            uuid primary key,
    project_id    uuid not null references projects(id),
    customer_id   uuid not null references customers(id),
    month         text not null, -- "2026-11", China Standard Time
    equipment_ids text[] not null default '{}',
    quota_kwh     numeric(14,3) not null check (quota_kwh >= 0),
    used_kwh      numeric(14,3) not null default 0,
    unique (customer_id, month)
);

-- Vehicles (C6): a VIN presented as idTag starts charging on its owner's account.
create table vehicles (
    vin         varchar(17) primary key,
    project_id  uuid not null references projects(id),
    customer_id uuid not null references customers(id),
    plate       text not null default '',
    created_at  timestamptz not null default now()
);

-- Charging orders (C7): one per OCPP transaction (or app start request).
create table charging_orders (
    id               uuid primary key,
    project_id       uuid references projects(id),
    workflow_id      text not null,
    source           text not null check (source in ('card','app','vin')),
    id_tag           text not null,
    card_no          text,
    vin              text,
    customer_id      uuid references customers(id),
    account_no       text,
    station_id       char(20),
    equipment_id     varchar(23) not null,
    connector_no     integer not null,
    transaction_id   integer,
    status           text not null check (status in ('starting','charging','completed','failed')),
    failure_reason   text,
    stop_reason      text,
    meter_start_wh   bigint,
    meter_stop_wh    bigint,
    started_at       timestamptz,
    stopped_at       timestamptz,
    energy_kwh       numeric(14,3),
    energy_fee       numeric(18,2),
    service_fee      numeric(18,2),
    discount         numeric(18,2),
    amount           numeric(18,2),
    strategy_version integer,
    lines            jsonb,        -- per TOU period: kWh, energy fee, service fee
    abnormal         text[] not null default '{}', -- no_stop, meter_backwards, zero_energy, overdrawn
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (equipment_id, transaction_id)
);
create index charging_orders_project on charging_orders(project_id, created_at desc, id);
create index charging_orders_card on charging_orders(card_no, created_at desc);
create index charging_orders_station on charging_orders(station_id, started_at);
