-- Platform-side prepaid billing (主站费控): tariffs as data, the tariff of
-- each meter, each meter's billing state, and one charge per meter and
-- reading interval.

create table tariffs (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    code       text not null,
    name       text not null default '',
    spec       jsonb not null, -- domain/tariff.Tariff
    created_at timestamptz not null default now(),
    unique (project_id, code)
);

-- Billing looks among every sweep write's meters for platform-side ones;
-- most deployments have few, and this keeps that look-up near free.
create index meters_platform on meters(id) where prepaid_mode = 'platform';

-- A platform-side meter without a row here is billed at meters.price.
create table meter_tariffs (
    meter_id  uuid primary key references meters(id),
    tariff_id uuid not null references tariffs(id),
    since     timestamptz not null default now()
);

-- Where billing of a meter stands. The last billed reading is the start of
-- the next interval; carry is the change wallet (sub-cent money priced but
-- not yet charged, within ±0.005); month_kwh is the tiered month-to-date.
create table meter_billing (
    meter_id        uuid primary key references meters(id),
    last_read_at    timestamptz not null, -- the reading's sweep slot
    last_taken_at   timestamptz not null, -- when the meter answered (TOU split by time)
    last_energy_kwh numeric(14,2) not null,
    last_sharp_kwh  numeric(14,2) not null,
    last_peak_kwh   numeric(14,2) not null,
    last_flat_kwh   numeric(14,2) not null,
    last_valley_kwh numeric(14,2) not null,
    carry           numeric(20,10) not null default 0,
    month           text not null default '',
    month_kwh       numeric(18,4) not null default 0,
    -- emergency overdraft (透支): the meter stays on until the wallet is below -overdraft
    overdraft       numeric(18,2) not null default 0 check (overdraft >= 0),
    -- billing asked for switch-off and has not switched the meter on since
    cut_off         boolean not null default false,
    -- counts billing's switch decisions; part of each command's idempotency key
    switch_seq      integer not null default 0
);

-- One charge per meter and reading (the interval ending at read_at): the
-- lines as priced and what was booked. Its key is the ledger entry's key.
create table meter_charges (
    meter_id   uuid not null references meters(id),
    read_at    timestamptz not null,
    from_at    timestamptz not null,
    to_at      timestamptz not null,
    energy_kwh numeric(18,4) not null, -- after CT/PT ratio
    exact      numeric(20,10) not null,
    amount     numeric(18,2) not null,
    carry      numeric(20,10) not null, -- the change wallet after this charge
    lines      jsonb not null,
    entry_key  text not null,
    primary key (meter_id, read_at)
);

-- Commands the platform issues itself (billing trips) have no operator.
alter table meter_commands alter column created_by drop not null;
