-- Meter replacement (换表, issue 17 M4): the old meter's final reading moves to
-- a new meter through the ledger; the old meter is retired.

-- A retired meter is out of service: no sweeps, alarms or sales.
alter table meters add column status text not null default 'active' check (status in ('active','retired'));
alter table meters add column retired_at timestamptz;

create table meter_replacements (
    id               uuid primary key,
    project_id       uuid not null references projects(id),
    transaction_no   text not null,
    request_hash     text not null,
    old_meter_id     uuid not null references meters(id),
    old_meter_no     text not null,
    new_meter_id     uuid not null references meters(id),
    new_meter_no     text not null,
    -- pending → reading → (awaiting_reading →) moving → completed | failed
    status           text not null check (status in ('pending','reading','awaiting_reading','moving','completed','failed')),
    workflow_id      text not null,
    -- The old meter's last state: read from it, or entered by the operator
    -- (manual, with the reason) when it could not be read.
    final_remaining  numeric(18,2),
    final_energy_kwh numeric(18,2),
    manual           boolean not null default false,
    manual_reason    text not null default '',
    -- The operator's reading sent with the request, used if the meter cannot be read.
    manual_remaining  numeric(18,2),
    manual_energy_kwh numeric(18,2),
    switched_off     boolean not null default false,
    moved            numeric(18,2),
    -- The new meter's state read back after the balance was written.
    new_remaining    numeric(18,2),
    new_purchase_count integer,
    failure          text not null default '',
    -- The two device commands of the replacement, logged like any command.
    switch_off_command_id uuid not null references meter_commands(id),
    clear_command_id      uuid not null references meter_commands(id),
    created_by       uuid not null references operators(id),
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    completed_at     timestamptz,
    unique (project_id, transaction_no)
);
-- A meter takes part in one open replacement at a time.
create unique index meter_replacements_open_old on meter_replacements(old_meter_id) where status not in ('completed','failed');
create unique index meter_replacements_open_new on meter_replacements(new_meter_id) where status not in ('completed','failed');
