-- Monthly allowance (月补电量, issue 20 §4, M7): kWh or money credited each
-- month to each eligible meter's account, from the allowance (subsidy)
-- ledger account. A project's setting applies to its electricity meters on
-- an open account; a meter's own row replaces it (quantity 0: none).
create table allowance_settings (
    project_id  uuid not null references projects(id),
    meter_id    uuid references meters(id),
    basis       text not null check (basis in ('kwh','money')),
    quantity    numeric(18,2) not null check (quantity >= 0),
    updated_by  uuid not null references operators(id), -- the allowance recharges are made in their name
    updated_at  timestamptz not null default now()
);
create unique index allowance_settings_project on allowance_settings(project_id) where meter_id is null;
create unique index allowance_settings_meter on allowance_settings(meter_id) where meter_id is not null;

-- An allowance is a recharge of kind 'allowance' (the sale's workflow takes
-- it to the meter: purchase counter for meter-side meters, the wallet for
-- platform-side ones).
alter table recharges drop constraint if exists recharges_kind_check;
alter table recharges add constraint recharges_kind_check check (kind in ('sale','adjustment','allowance'));

-- One grant per meter and month, written with its recharge in one
-- transaction: the claim that makes a rerun, or a run resumed after a
-- crash, grant nothing twice.
create table allowance_grants (
    meter_id     uuid not null references meters(id),
    period       text not null, -- YYYY-MM
    project_id   uuid not null references projects(id),
    recharge_id  uuid not null references recharges(id),
    basis        text not null,
    quantity     numeric(18,2) not null,
    amount       numeric(18,2) not null,
    granted_at   timestamptz not null default now(),
    primary key (meter_id, period)
);
create index allowance_grants_project_period on allowance_grants(project_id, period);
