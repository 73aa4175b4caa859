-- Regulator exchange (DB4403/T 77-2020): a minimal charging registry per tables 1–9
-- (operator → station → equipment → connector), connector status and its history,
-- regulator credentials (encrypted at rest), tokens we issue, and the push history
-- supplement queries answer from. Column names follow the standard's field names
-- in snake case so the mapping to JSON is mechanical.

-- Table 1 (充电运营商信息).
create table charging_operators (
    operator_id          char(9) primary key,
    operator_name        varchar(64) not null,
    operator_tel1        varchar(32) not null,
    operator_tel2        varchar(32) not null,
    operator_reg_address varchar(64),
    operator_note        varchar(255),
    updated_at           timestamptz not null default now()
);

-- Tables 2 and 3 (充电站信息, 充电站拓展信息).
create table charging_stations (
    station_id         char(20) primary key,
    operator_id        char(9) not null references charging_operators(operator_id),
    equipment_owner_id char(9) not null,
    station_name       varchar(50) not null,
    country_code       char(2) not null default 'CN',
    area_code          varchar(20) not null,
    address            varchar(200) not null,
    station_tel        varchar(32) not null,
    service_tel        varchar(30) not null,
    station_type       integer not null,
    station_status     integer not null,
    park_nums          integer not null default 0,
    station_lng        numeric(10,6) not null,
    station_lat        numeric(10,6) not null,
    site_guide         varchar(100),
    construction       integer not null,
    pictures           text[] not null default '{}',
    match_cars         varchar(100),
    park_info          varchar(100),
    busine_hours       varchar(100),
    electricity_fee    varchar(256),
    service_fee        varchar(256),
    park_fee           varchar(100),
    payment            varchar(20),
    support_order      integer,
    remark             varchar(100),
    park_owner         text,
    park_manager       text,
    open_all_day       integer,
    park_free          integer,
    oprator_type       integer not null default 1, -- sic: the standard spells it OpratorType
    updated_at         timestamptz not null default now()
);

-- Tables 4 and 5 (充电设备信息, 充电设备拓展信息).
create table charging_equipment (
    equipment_id          varchar(23) primary key,
    station_id            char(20) not null references charging_stations(station_id),
    manufacturer_id       char(9) not null,
    equipment_model       varchar(20) not null,
    production_date       date,
    equipment_type        integer not null,
    equipment_lng         numeric(10,6),
    equipment_lat         numeric(10,6),
    equipment_name        varchar(30) not null,
    power                 numeric(10,1) not null,
    manufacturer_name     varchar(30),
    equipment_status      integer not null,
    equipment_power       numeric(10,1) not null,
    new_national_standard integer not null,
    updated_at            timestamptz not null default now()
);
create index charging_equipment_station on charging_equipment(station_id);

-- Tables 6 and 7 (充电设备接口信息, 充电设备接口扩展信息).
create table charging_connectors (
    connector_id         varchar(26) primary key,
    equipment_id         varchar(23) not null references charging_equipment(equipment_id),
    connector_name       varchar(30) not null,
    connector_type       integer not null,
    voltage_upper_limits integer not null,
    voltage_lower_limits integer not null,
    current              integer not null,
    power                numeric(10,1) not null,
    park_no              varchar(10),
    voltage              integer not null,
    bms_power_type       integer not null,
    updated_at           timestamptz not null default now()
);
create index charging_connectors_equipment on charging_connectors(equipment_id);

-- Tables 8 and 9: the latest status of each connector.
create table connector_status (
    connector_id          varchar(26) primary key references charging_connectors(connector_id),
    status                integer not null,
    park_status           integer,
    lock_status           integer,
    current_a             integer not null default 0,
    current_b             integer not null default 0,
    current_c             integer not null default 0,
    voltage_a             integer not null default 0,
    voltage_b             integer not null default 0,
    voltage_c             integer not null default 0,
    soc                   integer not null default 0,
    connector_temp        integer,
    equipment_temp        integer,
    connector_lock        integer,
    charge_electricity    numeric(12,3) not null default 0,
    discharge_electricity numeric(12,3) not null default 0,
    changed_at            timestamptz not null default now()
);

-- Every change, in order, so the regulator's history questions can be answered.
create table connector_status_history (
    id           bigserial primary key,
    connector_id varchar(26) not null references charging_connectors(connector_id),
    info         jsonb not null, -- ConnectorStatusInfo as pushed (tables 8 and 9)
    changed_at   timestamptz not null
);
create index connector_status_history_at on connector_status_history(connector_id, changed_at);

-- Credentials of one regulator (§10.1.4). The secrets are one AES-256-GCM box under the
-- master key (VOLTFLOW_MASTER_KEY), bound to regulator and operator id by the AAD.
-- Several rows per regulator give rotation with an overlap window: the newest valid row
-- seals what we send, every valid row may open what we receive.
create table regulator_credentials (
    id          bigserial primary key,
    regulator   text not null,
    operator_id varchar(9) not null,
    sealed      bytea not null,
    valid_from  timestamptz not null default now(),
    valid_until timestamptz,
    created_at  timestamptz not null default now()
);
create index regulator_credentials_op on regulator_credentials(operator_id);

-- Tokens we issue through query_token (appendix C); only a hash is kept.
create table regulator_tokens (
    token_hash  bytea primary key,
    operator_id varchar(9) not null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);

-- What the regulator configured through query_frequency (table 63).
create table regulator_settings (
    operator_id       varchar(9) primary key,
    push_frequency_s  integer not null check (push_frequency_s between 5 and 60),
    updated_at        timestamptz not null default now()
);

-- Every push we made or owed, in time order: the source of supplement_collect.
create table regulator_pushes (
    id            bigserial primary key,
    regulator     text not null,
    interface     text not null,            -- e.g. notification_stationStatus
    station_id    char(20),
    connector_id  varchar(26),
    -- idempotency: one row per business event (e.g. status/<history id>)
    event_key     text not null,
    payload       jsonb not null,           -- the Data plaintext
    status        text not null default 'pending' check (status in ('pending','sent','dropped','rejected')),
    attempts      integer not null default 0,
    due_at        timestamptz not null,     -- when the push was owed (the report time)
    sent_at       timestamptz,
    time_stamp    char(14),                 -- envelope TimeStamp/Seq of the last attempt
    seq           char(4),
    last_error    text,
    created_at    timestamptz not null default now(),
    unique (regulator, interface, event_key)
);
create index regulator_pushes_due on regulator_pushes(interface, connector_id, due_at);
create index regulator_pushes_pending on regulator_pushes(status, due_at) where status = 'pending';
