-- Property fees (物业费, issue 20 §6, M13): rent, property-management and
-- capacity fees per unit, deducted from the unit's account on their day by
-- the property-fees workflow. units.area may also be added by another
-- migration (0042): "if not exists" keeps both.
alter table units add column if not exists area numeric(12,2);

-- A schedule applies to one unit, or to every unit below a site.
create table fee_schedules (
    id            uuid primary key,
    project_id    uuid not null references projects(id),
    unit_id       uuid references units(id),
    site_id       uuid references sites(id),
    kind          text not null check (kind in ('rent','management','capacity')),
    basis         text not null check (basis in ('fixed','per_m2')),
    amount        numeric(18,2) not null check (amount > 0),
    day_of_month  smallint not null check (day_of_month between 1 and 31),
    created_by    uuid,
    created_at    timestamptz not null default now(),
    check ((unit_id is null) <> (site_id is null))
);
create index fee_schedules_project on fee_schedules(project_id);

-- One row per (schedule, unit, period): written in the same transaction as
-- the ledger entry (key fee:<schedule>:<unit>:<YYYY-MM>), so a rerun or a
-- resumed run books nothing twice. arrears is what the wallet lacked.
create table fee_charges (
    schedule_id  uuid not null references fee_schedules(id),
    unit_id      uuid not null references units(id),
    period       text not null, -- YYYY-MM
    project_id   uuid not null references projects(id),
    kind         text not null,
    amount       numeric(18,2) not null,
    arrears      numeric(18,2) not null default 0,
    meter_no     text not null,
    account_no   text not null,
    ledger_key   text not null,
    cut_off      boolean not null default false,
    booked_on    date not null,
    booked_at    timestamptz not null default now(),
    primary key (schedule_id, unit_id, period)
);
create index fee_charges_project_period on fee_charges(project_id, period);

-- Project rule: cut the meter off when a fee leaves arrears.
alter table projects add column fee_arrears_cut_off boolean not null default false;
