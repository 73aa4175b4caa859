-- Regulator exchange, part 2 (DB4403/T 77-2020 tables 11–22): the monitoring
-- history the remaining §9 queries and supplement_collect answer from —
-- alarms (table 19), events (table 21), BMS process samples (table 20),
-- per-connector daily energy (tables 11–16), distribution equipment (tables
-- 17–18) and station video access (table 22). Each history row keeps the
-- object exactly as pushed (jsonb) next to the columns queries filter on.

-- Table 19 (告警信息): every alarm raised or cleared, in order.
create table regulator_alarms (
    id           bigserial primary key,
    station_id   char(20) not null references charging_stations(station_id),
    equipment_id varchar(23) not null,
    connector_id varchar(26) not null,
    alarm_time   timestamptz not null,
    info         jsonb not null,
    created_at   timestamptz not null default now()
);
create index regulator_alarms_station on regulator_alarms(station_id, alarm_time);

-- Table 21 (事件信息).
create table regulator_events (
    id         bigserial primary key,
    station_id char(20) not null references charging_stations(station_id),
    event_time timestamptz not null,
    info       jsonb not null,
    created_at timestamptz not null default now()
);
create index regulator_events_station on regulator_events(station_id, event_time);

-- Table 20 (车辆充放电过程信息) with the connector status of table 45: one row
-- per sample; a charging session is identified by its start time.
create table regulator_bms (
    id                  bigserial primary key,
    station_id          char(20) not null references charging_stations(station_id),
    connector_id        varchar(26) not null references charging_connectors(connector_id),
    start_charging_time timestamptz,
    fresh_time          timestamptz not null,
    info                jsonb not null, -- {"ConnectorID","Status","BmsInfo"} as pushed
    created_at          timestamptz not null default now()
);
create index regulator_bms_connector on regulator_bms(connector_id, fresh_time);
create index regulator_bms_session on regulator_bms(connector_id, start_charging_time);

-- Tables 11–16: energy charged and discharged per connector and day (China
-- time), which the statistics queries sum over a date range.
create table connector_energy_daily (
    connector_id  varchar(26) not null references charging_connectors(connector_id),
    day           date not null,
    charge_kwh    numeric(14,3) not null default 0,
    discharge_kwh numeric(14,3) not null default 0,
    primary key (connector_id, day)
);

-- Tables 17 and 18 (配电设备信息, 配电设备状态信息), optional in the standard.
create table distribution_equipment (
    dis_equipment_id varchar(23) primary key,
    station_id       char(20) not null references charging_stations(station_id),
    info             jsonb not null, -- table 17
    status           jsonb,          -- table 18, the latest
    status_at        timestamptz,
    updated_at       timestamptz not null default now()
);
create index distribution_equipment_station on distribution_equipment(station_id);

-- Table 22 (视频参数信息). VideoUser and VideoAuthCode travel only inside the
-- encrypted Data of query_video_info.
create table station_videos (
    id              bigserial primary key,
    station_id      char(20) not null references charging_stations(station_id),
    video_link      varchar(500) not null,
    video_type      integer not null check (video_type in (1, 2)),
    video_user      text not null,
    video_auth_code varchar(255),
    created_at      timestamptz not null default now()
);
create index station_videos_station on station_videos(station_id);
