-- Refunds from meter-side prepaid meters (退电) and reversals of a mistaken sale (冲正).

-- A refund takes a purchase-counter value on the meter just as a recharge
-- does (register 0x0210 under the same counter rule), so both claim counters
-- in meter_purchases. recharge_id keeps its name for the code that reads it;
-- it holds the id of the recharge or the refund, as kind says.
alter table meter_purchases add column kind text not null default 'recharge'
    check (kind in ('recharge','refund'));
drop index meter_purchases_applied;
create unique index meter_purchases_applied on meter_purchases(kind, recharge_id) where state = 'applied';

create table refunds (
    id                   uuid primary key,
    project_id           uuid not null references projects(id),
    meter_id             uuid not null references meters(id),
    meter_no             text not null,
    transaction_no       text not null,
    amount               numeric(18,2) not null check (amount > 0),
    kind                 text not null check (kind in ('refund','reversal')),
    reverses_recharge_id uuid references recharges(id),
    reason               text not null default '',
    status               text not null,
    workflow_id          text not null,
    created_by           uuid not null references operators(id),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    completed_at         timestamptz,
    meter_counter        integer,
    failure              text not null default '',
    unique (project_id, transaction_no),
    check ((kind = 'reversal') = (reverses_recharge_id is not null))
);
create index refunds_project_created on refunds(project_id, created_at desc, id desc);
create index refunds_meter_open on refunds(meter_id) where status <> 'completed' and status <> 'rejected';
-- A recharge is reversed once; a rejected reversal leaves room for another.
create unique index refunds_reverses_once on refunds(reverses_recharge_id)
    where reverses_recharge_id is not null and status <> 'rejected';
