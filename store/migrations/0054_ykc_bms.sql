-- YKC chargers (issue 22 §1, C2): the BMS frames they report during a
-- session (0x15 handshake, 0x23 demand and output, 0x25 status), one row
-- per frame, decoded to the fields the regulator's BMS records need
-- (DB4403/T 77-2020 notification_bmsInfo) and the raw body besides.
create table ykc_bms_records (
    id                bigserial primary key,
    equipment_id      varchar(23) not null,
    connector_no      integer not null,
    trade_no          text not null,        -- YKC 交易流水号 (32 digits)
    frame_type        smallint not null,    -- 0x15, 0x23 or 0x25
    at                timestamptz not null,
    soc               integer,              -- %
    demand_voltage    numeric(8,1),         -- V
    demand_current    numeric(8,1),         -- A
    measured_voltage  numeric(8,1),
    measured_current  numeric(8,1),
    max_cell_voltage  numeric(6,2),         -- V
    max_temp          integer,              -- °C
    min_temp          integer,
    remaining_minutes integer,
    battery_type      integer,
    rated_capacity    numeric(8,1),         -- Ah
    rated_voltage     numeric(8,1),         -- V
    vin               text,
    body              bytea not null
);
create index ykc_bms_records_eq_at on ykc_bms_records(equipment_id, at);
create index ykc_bms_records_trade on ykc_bms_records(trade_no);
