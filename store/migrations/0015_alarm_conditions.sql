-- Alarms beyond low balance (M8, seed 002): a meter static for a set time
-- while its account is active (possible theft), over-limit (voltage, current,
-- daily, monthly and night-time energy), overload and malignant-load trips,
-- and lost contact of meters and gateways. A periodic scan compares what
-- the meters report with these limits and opens or clears one
-- alarm/<subject>/<kind> workflow per condition.

-- Limits of a project (meter_id null) or one meter (its row replaces the
-- project's). A null limit is that check off.
create table alarm_limits (
    id           bigserial primary key,
    project_id   uuid not null references projects(id),
    meter_id     uuid references meters(id),
    voltage_max  numeric(8,1),
    voltage_min  numeric(8,1),
    current_max  numeric(10,2),
    daily_kwh    numeric(14,2),
    monthly_kwh  numeric(14,2),
    night_kwh    numeric(14,2),
    -- the night window in minutes after local midnight (default 23:00–06:00)
    night_start  smallint not null default 1380 check (night_start between 0 and 1439),
    night_end    smallint not null default 360 check (night_end between 0 and 1439),
    utc_offset_minutes smallint not null default 480,
    -- no energy change for this long while the account is open and other
    -- meters of the project move: the static (possible theft) alarm. Seed 002
    -- speaks of days; an interval lets a demo or a test use minutes.
    static_after interval,
    unique nulls not distinct (project_id, meter_id)
);

-- What the scan remembers of each meter: the last energy seen, since when it
-- has not changed, and the energy at the start of the local day, month and
-- night, for the usage limits.
create table alarm_meter_watch (
    meter_id        uuid primary key references meters(id),
    energy_kwh      numeric(18,2) not null,
    read_at         timestamptz not null, -- of the state the scan saw
    moved_at        timestamptz not null, -- energy last changed (first seen)
    day             date not null,
    day_start_kwh   numeric(18,2) not null,
    month           date not null,
    month_start_kwh numeric(18,2) not null,
    night           date,                 -- local date the current night began
    night_start_kwh numeric(18,2),
    scanned_at      timestamptz not null
);

-- A gateway's lost contact is an alarm too: it has no meter.
alter table alarms alter column meter_id drop not null;
alter table alarms add column detail text not null default '';
create unique index alarms_open_workflow on alarms(workflow_id) where status = 'open';
create index alarms_status_kind on alarms(project_id, status, kind);

-- Delivery receipts: what the provider finally reported for a sent message.
alter table sms_messages add column delivery text not null default 'unknown'
    check (delivery in ('unknown','delivered','failed'));
alter table sms_messages add column delivery_code text not null default '';
alter table sms_messages add column delivered_at timestamptz;
create index sms_messages_provider_id on sms_messages(provider, provider_message_id) where provider_message_id <> '';
-- Per-number rate limit: messages sent to a number in the last hour.
create index sms_messages_recipient_sent on sms_messages(recipient, sent_at) where sent_at is not null;
