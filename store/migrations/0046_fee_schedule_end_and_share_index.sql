-- The statement shows each meter's common-area shares (issue 20 §5): it
-- looks them up by the paying meter and the month, once per meter row.
create index common_area_shares_payer on common_area_shares(meter_no, period);

-- A fee schedule is ended, not deleted (DELETE .../fee-schedules/{id}): its
-- booked charges keep pointing at it, and from its end no fee is due.
alter table fee_schedules add column ended_at timestamptz, add column ended_by uuid;
