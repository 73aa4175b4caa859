-- Charging analytics (issue 23 §2, C9/C11): daily rollups of charging
-- orders, kept up to date by a trigger on charging_orders, so the analytics
-- read at most one row per connector and day instead of every order. The
-- trigger adds an order's contribution when it reaches a final status
-- (completed or failed) and takes it back when a final order changes or
-- goes, so the rollup always equals the orders it was built from.
-- Days are China days (Asia/Shanghai, as every report).

-- Per connector and day.
create table charging_daily_rollup (
    project_id     uuid not null,
    station_id     char(20) not null,
    day            date not null,
    equipment_id   varchar(23) not null,
    connector_no   integer not null,
    orders         integer not null default 0,  -- completed orders started this day
    failed         integer not null default 0,  -- failed orders created this day
    energy_kwh     numeric not null default 0,  -- of the completed orders started this day
    amount         numeric not null default 0,
    charge_seconds bigint not null default 0,   -- their whole duration (stopped - started)
    busy_seconds   bigint not null default 0,   -- the part of any completed order's time inside this day
    busy_kwh       numeric not null default 0,  -- that order's energy pro rata to that part
    protection     integer not null default 0,  -- completed orders the charger stopped to protect (主动防护)
    abnormal       integer not null default 0,  -- completed orders that ended abnormally (异常中止)
    primary key (project_id, station_id, day, equipment_id, connector_no)
);
-- Periods across all stations read a project's days.
create index charging_daily_rollup_day on charging_daily_rollup (project_id, day);

-- Per station and day: the connector rows summed, for the station-level
-- analytics (a month of 50 stations is 1,500 rows, not 30,000). Kept from
-- charging_daily_rollup by its own trigger, below.
create table charging_station_rollup (
    project_id     uuid not null,
    station_id     char(20) not null,
    day            date not null,
    orders         integer not null default 0,
    failed         integer not null default 0,
    energy_kwh     numeric not null default 0,
    amount         numeric not null default 0,
    charge_seconds bigint not null default 0,
    busy_seconds   bigint not null default 0,
    busy_kwh       numeric not null default 0,
    protection     integer not null default 0,
    abnormal       integer not null default 0,
    primary key (project_id, day, station_id)
);

-- Per charger and day: the protection analysis by brand and model reads
-- chargers (100 a day for 50 stations), not connectors.
create table charging_equipment_rollup (
    project_id   uuid not null,
    day          date not null,
    equipment_id varchar(23) not null,
    station_id   char(20) not null,
    orders       integer not null default 0,
    failed       integer not null default 0,
    protection   integer not null default 0,
    abnormal     integer not null default 0,
    primary key (project_id, day, equipment_id)
);

create function charging_station_rollup_add() returns trigger language plpgsql as $$
begin
    if (new.orders, new.failed, new.protection, new.abnormal)
            is distinct from (old.orders, old.failed, old.protection, old.abnormal) then
        insert into charging_equipment_rollup as r (project_id, day, equipment_id, station_id, orders, failed, protection, abnormal)
        values (new.project_id, new.day, new.equipment_id, new.station_id, new.orders - coalesce(old.orders, 0),
            new.failed - coalesce(old.failed, 0), new.protection - coalesce(old.protection, 0),
            new.abnormal - coalesce(old.abnormal, 0))
        on conflict (project_id, day, equipment_id) do update set orders = r.orders + excluded.orders,
            failed = r.failed + excluded.failed, protection = r.protection + excluded.protection,
            abnormal = r.abnormal + excluded.abnormal;
    end if;
    insert into charging_station_rollup as r (project_id, station_id, day, orders, failed, energy_kwh, amount, charge_seconds,
        busy_seconds, busy_kwh, protection, abnormal)
    values (new.project_id, new.station_id, new.day, new.orders - coalesce(old.orders, 0), new.failed - coalesce(old.failed, 0),
        new.energy_kwh - coalesce(old.energy_kwh, 0), new.amount - coalesce(old.amount, 0),
        new.charge_seconds - coalesce(old.charge_seconds, 0), new.busy_seconds - coalesce(old.busy_seconds, 0),
        new.busy_kwh - coalesce(old.busy_kwh, 0), new.protection - coalesce(old.protection, 0),
        new.abnormal - coalesce(old.abnormal, 0))
    on conflict (project_id, day, station_id) do update set orders = r.orders + excluded.orders,
        failed = r.failed + excluded.failed, energy_kwh = r.energy_kwh + excluded.energy_kwh,
        amount = r.amount + excluded.amount, charge_seconds = r.charge_seconds + excluded.charge_seconds,
        busy_seconds = r.busy_seconds + excluded.busy_seconds, busy_kwh = r.busy_kwh + excluded.busy_kwh,
        protection = r.protection + excluded.protection, abnormal = r.abnormal + excluded.abnormal;
    return null;
end
$$;

create trigger charging_daily_rollup_station after insert or update on charging_daily_rollup
    for each row execute function charging_station_rollup_add();

-- Per customer, station and day: who charged at our stations (公司客户查询).
create table charging_customer_rollup (
    project_id  uuid not null,
    station_id  char(20) not null,
    day         date not null,
    customer_id uuid not null,
    orders      integer not null default 0,
    energy_kwh  numeric not null default 0,
    amount      numeric not null default 0,
    primary key (project_id, customer_id, day, station_id)
);
create index charging_customer_rollup_day on charging_customer_rollup (project_id, day);

-- Per connector, day and hour of the day: energy from the order's meter
-- samples, each interval's Wh put in the hour its later sample fell in,
-- and the largest sampled power (充电功率分时分析).
create table charging_power_rollup (
    project_id   uuid not null,
    station_id   char(20) not null,
    day          date not null,
    hour         smallint not null check (hour between 0 and 23),
    equipment_id varchar(23) not null,
    connector_no integer not null,
    energy_wh    bigint not null default 0,
    max_power_w  numeric not null default 0,
    primary key (project_id, station_id, day, hour, equipment_id, connector_no)
);
create index charging_power_rollup_day on charging_power_rollup (project_id, day);

-- Whether an order ended by the charger's protection: OCPP EmergencyStop,
-- or a stop reason naming a protective trip (YKC and vendors send text).
create function charging_order_protection(o charging_orders) returns boolean language sql immutable as $$
    select coalesce(o.stop_reason in ('EmergencyStop') or o.stop_reason ilike '%protect%', false)
$$;

-- Whether an order ended abnormally (异常中止): power loss, a reset, the
-- car unplugged, or an abnormal flag the settlement raised.
create function charging_order_abnormal(o charging_orders) returns boolean language sql immutable as $$
    select coalesce(o.stop_reason in ('PowerLoss','Reboot','HardReset','SoftReset','EVDisconnected'), false)
        or o.abnormal && array['no_stop','meter_backwards']::text[]
$$;

-- charging_rollup_apply adds (s = 1) or takes back (s = -1) one final
-- order's contribution.
create function charging_rollup_apply(o charging_orders, s integer) returns void language plpgsql as $$
declare
    total numeric;
begin
    if o.project_id is null or o.station_id is null or o.status not in ('completed','failed') then
        return;
    end if;
    if o.status = 'failed' then
        insert into charging_daily_rollup as r (project_id, station_id, day, equipment_id, connector_no, failed)
        values (o.project_id, o.station_id, (coalesce(o.started_at, o.created_at) at time zone 'Asia/Shanghai')::date,
            o.equipment_id, o.connector_no, s)
        on conflict (project_id, station_id, day, equipment_id, connector_no) do update set failed = r.failed + excluded.failed;
        return;
    end if;
    if o.started_at is null then
        return;
    end if;
    total := greatest(extract(epoch from coalesce(o.stopped_at, o.started_at) - o.started_at), 0);
    insert into charging_daily_rollup as r (project_id, station_id, day, equipment_id, connector_no, orders, energy_kwh,
        amount, charge_seconds, protection, abnormal)
    values (o.project_id, o.station_id, (o.started_at at time zone 'Asia/Shanghai')::date, o.equipment_id, o.connector_no,
        s, s * coalesce(o.energy_kwh, 0), s * coalesce(o.amount, 0), s * total::bigint,
        s * charging_order_protection(o)::int, s * charging_order_abnormal(o)::int)
    on conflict (project_id, station_id, day, equipment_id, connector_no) do update set
        orders = r.orders + excluded.orders, energy_kwh = r.energy_kwh + excluded.energy_kwh,
        amount = r.amount + excluded.amount, charge_seconds = r.charge_seconds + excluded.charge_seconds,
        protection = r.protection + excluded.protection, abnormal = r.abnormal + excluded.abnormal;
    -- the time the order held the connector, day by day
    if total > 0 then
        insert into charging_daily_rollup as r (project_id, station_id, day, equipment_id, connector_no, busy_seconds, busy_kwh)
        select o.project_id, o.station_id, d.day, o.equipment_id, o.connector_no, s * d.secs::bigint,
            s * coalesce(o.energy_kwh, 0) * d.secs / total
        from (select g::date as day,
                extract(epoch from least(o.stopped_at, (g + interval '1 day') at time zone 'Asia/Shanghai')
                    - greatest(o.started_at, g at time zone 'Asia/Shanghai')) as secs
            from generate_series((o.started_at at time zone 'Asia/Shanghai')::date::timestamp,
                (o.stopped_at at time zone 'Asia/Shanghai')::date::timestamp, interval '1 day') g) d
        where d.secs > 0
        on conflict (project_id, station_id, day, equipment_id, connector_no) do update set
            busy_seconds = r.busy_seconds + excluded.busy_seconds, busy_kwh = r.busy_kwh + excluded.busy_kwh;
    end if;
    if o.customer_id is not null then
        insert into charging_customer_rollup as r (project_id, station_id, day, customer_id, orders, energy_kwh, amount)
        values (o.project_id, o.station_id, (o.started_at at time zone 'Asia/Shanghai')::date, o.customer_id,
            s, s * coalesce(o.energy_kwh, 0), s * coalesce(o.amount, 0))
        on conflict (project_id, customer_id, day, station_id) do update set orders = r.orders + excluded.orders,
            energy_kwh = r.energy_kwh + excluded.energy_kwh, amount = r.amount + excluded.amount;
    end if;
    -- Power by hour from the meter samples: start, MeterValues, stop. A
    -- take-back leaves the hour's maximum (a maximum cannot be undone
    -- without the samples; only a changed final order takes back).
    if o.transaction_id is not null then
        insert into charging_power_rollup as r (project_id, station_id, day, hour, equipment_id, connector_no, energy_wh, max_power_w)
        select o.project_id, o.station_id, (at at time zone 'Asia/Shanghai')::date,
            extract(hour from at at time zone 'Asia/Shanghai')::smallint, o.equipment_id, o.connector_no,
            s * coalesce(sum(greatest(wh - prev, 0)), 0)::bigint, coalesce(max(power_w), 0)
        from (select at, wh, power_w, lag(wh) over (order by at, ord) as prev from (
                select o.started_at as at, o.meter_start_wh as wh, null::numeric as power_w, 0::bigint as ord
                union all
                select mv.at, mv.energy_wh, mv.power_w, mv.id from ocpp_meter_values mv
                where mv.transaction_id = o.transaction_id and mv.equipment_id = o.equipment_id
                    and (mv.energy_wh is not null or mv.power_w is not null)
                union all
                select o.stopped_at, o.meter_stop_wh, null, 9223372036854775807 where o.stopped_at is not null) x
            where x.at is not null and (x.wh is not null or x.power_w is not null)) y
        group by 3, 4
        on conflict (project_id, station_id, day, hour, equipment_id, connector_no) do update set
            energy_wh = r.energy_wh + excluded.energy_wh,
            max_power_w = greatest(r.max_power_w, excluded.max_power_w);
    end if;
end
$$;

-- The columns that decide an order's contribution; an update that changes
-- none of them (updated_at, a workflow note) costs nothing.
create function charging_rollup_order() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE' and (old.status, old.project_id, old.station_id, old.equipment_id, old.connector_no,
            old.started_at, old.stopped_at, old.created_at, old.energy_kwh, old.amount, old.stop_reason, old.abnormal,
            old.customer_id, old.transaction_id, old.meter_start_wh, old.meter_stop_wh)
        is not distinct from (new.status, new.project_id, new.station_id, new.equipment_id, new.connector_no,
            new.started_at, new.stopped_at, new.created_at, new.energy_kwh, new.amount, new.stop_reason, new.abnormal,
            new.customer_id, new.transaction_id, new.meter_start_wh, new.meter_stop_wh) then
        return null;
    end if;
    if tg_op in ('UPDATE','DELETE') then
        perform charging_rollup_apply(old, -1);
    end if;
    if tg_op in ('UPDATE','INSERT') then
        perform charging_rollup_apply(new, 1);
    end if;
    return null;
end
$$;

create trigger charging_orders_rollup after insert or update or delete on charging_orders
    for each row execute function charging_rollup_order();

-- The orders already final when this migration runs.
select charging_rollup_apply(o, 1) from charging_orders o where o.status in ('completed','failed');
