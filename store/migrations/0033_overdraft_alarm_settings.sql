-- Emergency overdraft (应急透支, M7) and alarm settings (S4) changed through
-- the API (issue 17).

-- The overdraft allowance of a platform-side meter: its own when set, else
-- its open account's, else its project's default, else none. It no longer
-- lives in meter_billing, which has a row only once the meter was billed:
-- an allowance set before the first reading must count too.
alter table meters add column overdraft numeric(18,2) check (overdraft >= 0);
alter table prepaid_accounts add column overdraft numeric(18,2) check (overdraft >= 0);
alter table projects add column overdraft numeric(18,2) check (overdraft >= 0);
update meters m set overdraft = b.overdraft from meter_billing b where b.meter_id = m.id and b.overdraft > 0;

-- The project's alarm scan interval (a Go duration); null is the server's
-- (VOLTFLOW_ALARM_SCAN_INTERVAL).
alter table projects add column alarm_scan_interval text;

-- Alarm SMS recipients of a site subtree (area managers): a meter's alarms go
-- to the recipients of every site on its path up the tree.
create table site_alarm_recipients (
    site_id uuid not null references sites(id) on delete cascade,
    phone   text not null,
    primary key (site_id, phone)
);

-- Superseded by meters.overdraft (copied above); nothing reads it any more.
comment on column meter_billing.overdraft is 'superseded by meters.overdraft (0033); unused';
