-- Charging network set-up (issue 19, C1): the registry of 0004_regulator.sql
-- gets a tenant and an operating switch, and charge points are registered
-- with a protocol. Station and connector rows stay the T/CEC model the
-- regulator reads; these columns are ours, never sent.

-- The project a station belongs to (the registry had none: the API scoped
-- stations through their chargers). Filled from the chargers for stations
-- that already have some.
alter table charging_stations add column project_id uuid references projects(id);
update charging_stations s set project_id = (select p.project_id from ocpp_charge_points p
    join charging_equipment e using (equipment_id)
    where e.station_id = s.station_id and p.project_id is not null limit 1)
where s.project_id is null;

-- 开始运营 / 暂停运营: a paused station or connector takes no new session
-- (running ones finish). Independent of StationStatus, which says what the
-- operator reports to the regulator.
alter table charging_stations add column paused boolean not null default false;
alter table charging_connectors add column paused boolean not null default false;

-- The protocol a registered charge point speaks.
alter table ocpp_charge_points add column protocol text not null default 'ocpp1.6j'
    check (protocol in ('ocpp1.6j','ykc'));

-- Concentrators (集控器): the controller of a station's split chargers,
-- each charger on its CAN bus at an address. Not in the T/CEC model (the
-- regulator never hears of them): operations use them to find a charger's
-- power cabinet on site.
create table charging_concentrators (
    station_id  char(20) not null references charging_stations(station_id),
    code        text not null,
    name        text not null default '',
    model       text not null default '',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    primary key (station_id, code)
);
create table charging_concentrator_chargers (
    station_id   char(20) not null,
    code         text not null,
    equipment_id varchar(23) not null unique references charging_equipment(equipment_id), -- behind one concentrator
    can_address  integer not null check (can_address between 1 and 254),
    foreign key (station_id, code) references charging_concentrators(station_id, code) on delete cascade,
    unique (station_id, code, can_address)
);
