-- Alarms (M8): low-balance escalation by SMS, who receives it, and every SMS
-- sent (outbox or provider) with its provider message id and status.

-- How a project (meter_id null) or one meter (overrides the project) is
-- alarmed. Without a row the defaults below apply: staged, 100/50/20 % of
-- the meter's alarm amount 1, quiet 22:00–08:00 China time.
create table alarm_policies (
    id          bigserial primary key,
    project_id  uuid not null references projects(id),
    meter_id    uuid references meters(id),
    -- staged: one SMS per threshold (alarm amount × each ratio); daily: one a day until paid (seed 002)
    mode        text not null default 'staged' check (mode in ('staged','daily')),
    ratios      numeric(5,4)[] not null default '{1.0,0.5,0.2}',
    -- quiet hours in minutes after local midnight; start = end means none.
    quiet_start smallint not null default 1320 check (quiet_start between 0 and 1439),
    quiet_end   smallint not null default 480 check (quiet_end between 0 and 1439),
    utc_offset_minutes smallint not null default 480, -- China has no DST
    recharge_sms boolean not null default true, -- "recharge received" (seed 004)
    unique nulls not distinct (project_id, meter_id)
);

-- Who gets a meter's alarms: rows for the meter and rows for its whole project
-- (meter_id null), plus the tenant's phone from the meter's account.
create table alarm_recipients (
    id         bigserial primary key,
    project_id uuid not null references projects(id),
    meter_id   uuid references meters(id),
    phone      text not null,
    name       text not null default '',
    role       text not null check (role in ('tenant','manager','other')),
    unique nulls not distinct (project_id, meter_id, phone)
);

-- One row per alarm episode (one run chain of alarm/<meterNo>/<kind>).
create table alarms (
    id           text primary key, -- the workflow's first run id
    project_id   uuid not null references projects(id),
    meter_id     uuid not null references meters(id),
    meter_no     text not null,
    kind         text not null,
    workflow_id  text not null,
    mode         text not null,
    alarm_amount numeric(18,2) not null,
    status       text not null check (status in ('open','closed')),
    opened_at    timestamptz not null,
    closed_at    timestamptz,
    resolution   text not null default '',
    -- [{"stage","at","recipients"}] in the order sent
    stages       jsonb not null default '[]',
    -- readings above this cannot raise a stage: the reading hook skips them.
    -- null: no reading can (only a recharge or recovery matters).
    next_threshold numeric(18,2)
);
create unique index alarms_open on alarms(meter_id, kind) where status = 'open';
create index alarms_project_opened on alarms(project_id, opened_at desc);

-- Every SMS. (workflow_id, alarm_id, stage, recipient) is the idempotency key:
-- a retried activity or a replayed workflow finds the row and sends nothing.
create table sms_messages (
    id                  uuid primary key,
    project_id          uuid not null references projects(id),
    workflow_id         text not null,
    alarm_id            text not null,
    stage               text not null,
    recipient           text not null,
    kind                text not null,
    meter_no            text not null,
    template            text not null,
    params              jsonb not null default '{}',
    text                text not null,
    status              text not null check (status in ('pending','sent','failed')),
    provider            text not null default '',
    provider_message_id text not null default '',
    provider_index      integer not null default 0, -- which configured provider is tried now
    attempts            integer not null default 0,
    last_error          text not null default '',
    created_at          timestamptz not null default now(),
    sent_at             timestamptz,
    unique (workflow_id, alarm_id, stage, recipient)
);
create index sms_messages_project_created on sms_messages(project_id, created_at desc, id desc);

-- Each provider call, failed or not: what was retried or fell back, and why.
create table sms_attempts (
    id         bigserial primary key,
    message_id uuid not null references sms_messages(id),
    provider   text not null,
    at         timestamptz not null default now(),
    ok         boolean not null,
    code       text not null default '',
    detail     text not null default ''
);
create index sms_attempts_message on sms_attempts(message_id, id);
