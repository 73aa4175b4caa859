-- Regulator data from production sources (issue 22 §3–5).

-- Charge statistics: connector_energy_daily (0016) is the daily rollup the
-- statistics queries sum; Settle now adds every completed order to it.
-- Orders completed before this migration are rolled up once here (the
-- statement is store/chargeorder.EnergyRollup with a null filter).
insert into connector_energy_daily (connector_id, day, charge_kwh)
	select c.connector_id, ((o.stopped_at at time zone 'UTC') + interval '8 hours')::date, sum(o.energy_kwh)
	from charging_orders o join charging_connectors c
		on c.connector_id = o.equipment_id || lpad(o.connector_no::text, 3, '0')
	where o.status = 'completed' and o.energy_kwh > 0 and o.stopped_at is not null
	group by 1, 2
	on conflict (connector_id, day) do update set charge_kwh = connector_energy_daily.charge_kwh + excluded.charge_kwh;

-- Distribution equipment (配电设备) read by the metering sweep: the meter
-- (three-phase profile ref-3phase-v1) whose electrical parameters give the
-- equipment's status (table 18).
alter table distribution_equipment add column meter_id uuid references meters(id);
create unique index distribution_equipment_meter on distribution_equipment(meter_id) where meter_id is not null;

-- Per-regulator policy of incoming requests: the accepted TimeStamp skew
-- (the ±5 min freshness window is ours, not the standard's; null or no
-- row: the platform default).
create table regulator_policies (
    regulator   text primary key,
    freshness_s integer check (freshness_s between 1 and 86400),
    updated_at  timestamptz not null default now()
);
