-- Work orders (运维工单, issue 8 item 2): opened automatically from charger
-- faults (charger_faults episodes, offline chargers) and repeated failed
-- sessions; one open work order per charger, connector and fault. The
-- workflow work-order/<equipment>/<connector>/<fault key> drives it.
create table work_orders (
    id               uuid primary key,              -- the first run id of its workflow
    project_id       uuid references projects(id),  -- of the charger (ocpp_charge_points.project_id)
    workflow_id      text not null,
    equipment_id     varchar(23) not null,
    connector_no     integer not null,              -- 0: the charger as a whole
    fault_key        text not null,                 -- alarm-<appendix B code> or failed-sessions
    source           text not null check (source in ('fault','failed_sessions')),
    alarm_code       integer,
    ocpp_code        text not null default '',
    title            text not null,
    status           text not null check (status in ('open','acknowledged','closed')),
    fault_active     boolean not null default true,
    assignee_id      uuid references operators(id), -- a maintenance operator of the project
    escalations      text[] not null default '{}',  -- unacknowledged, unresolved
    opened_at        timestamptz not null,
    acknowledged_at  timestamptz,
    acknowledged_by  uuid references operators(id),
    recovered_at     timestamptz,                   -- the last fault episode's recovery
    closed_at        timestamptz,
    closed_by        uuid references operators(id),
    resolution       text not null default ''
);
-- The de-duplication the workflow id gives, kept by the database too.
create unique index work_orders_open on work_orders(equipment_id, connector_no, fault_key) where status <> 'closed';
create index work_orders_project_opened on work_orders(project_id, opened_at desc, id desc);

-- What happened to a work order: opened, fault episodes (charger_faults ids),
-- recoveries, escalations, acknowledgement, resolution.
create table work_order_events (
    id            bigserial primary key,
    work_order_id uuid not null references work_orders(id),
    kind          text not null,
    fault_id      bigint,
    detail        text not null default '',
    operator_id   uuid references operators(id),
    at            timestamptz not null
);
create index work_order_events_order on work_order_events(work_order_id, id);

-- Who gets a work order's escalation SMS in a project (operators have no
-- phone of their own): level 1 when nobody acknowledges in time, level 2
-- (and level 1) when it is not resolved in time.
create table work_order_contacts (
    project_id   uuid not null references projects(id),
    phone        text not null,
    name         text not null default '',
    operator_id  uuid references operators(id),
    level        integer not null default 1 check (level in (1, 2)),
    primary key (project_id, phone)
);
