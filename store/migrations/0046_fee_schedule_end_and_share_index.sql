-- The statement shows each meter's common-area shares (issue 20 §5): it
-- looks them up by the paying meter and the month, once per meter row.
create index common_area_shares_payer on common_area_shares(meter_no, period);

-- A fee schedule is ended, not deleted (DELETE .../fee-schedules/{id}): its
-- booked charges keep pointing at it, and from its end no fee is due.
alter table fee_schedules add column ended_at timestamptz, add column ended_by uuid;

-- Why a meter is off for property-fee arrears (feeArrearsCutOff): one row
-- per meter, open (released_at null) while the fee hold lasts. fee_key is
-- the fee whose arrears cut it off; its switch-off and switch-on commands
-- carry the idempotency keys fee-cut-off/<fee_key>[/switch_on].
create table fee_cut_offs (
    meter_id     uuid primary key references meters(id),
    project_id   uuid not null references projects(id),
    meter_no     text not null,
    fee_key      text not null,
    cut_at       timestamptz not null default now(),
    released_at  timestamptz
);
create index fee_cut_offs_meter_no on fee_cut_offs(project_id, meter_no);
