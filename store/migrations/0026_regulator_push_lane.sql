-- The pump's claim takes the head (lowest id) of each lane of pending
-- pushes. With the lane computed per row at claim time, every claim sorted
-- all pending rows, so a backlog after an outage drained ever slower. The
-- lane is stored and indexed with its station instead: the claim skips
-- from lane to lane in the index, one probe per lane.
--
-- The lane (interconnect/push: LaneAlarm, BmsLane, …) is a connector's
-- statuses, its BMS samples, or a station's alarms, events or station
-- info. Adding the column computes it for the rows already there.
alter table regulator_pushes add column lane text generated always as (case interface
    when 'notification_stationStatus' then connector_id
    when 'notification_bmsInfo' then 'bms/' || connector_id
    when 'notification_alarmInfo' then 'alarm'
    when 'notification_eventInfo' then 'event'
    else 'station-info' end) stored;

-- next_at is included so a lane's head can be judged due from the index.
-- It replaces regulator_pushes_outbox, which only the claim used.
-- "status not in (…)" means status = 'pending' (the check constraint) but,
-- unlike it, does not match regulator_pushes_pending: with statistics
-- older than a backlog the planner would otherwise scan and sort that
-- index (every pending row) at each step of the claim.
create index regulator_pushes_lanes on regulator_pushes(regulator, coalesce(station_id, ''), lane, id)
    include (next_at) where status not in ('sent', 'dropped', 'rejected') and event_key not like 'periodic%';
drop index regulator_pushes_outbox;

-- The lane is null for a status or BMS push without a connector. No writer
-- makes one, but the claim still serves such rows, one lane per station;
-- this index stays empty and lets it find them without a scan.
create index regulator_pushes_null_lanes on regulator_pushes(regulator, coalesce(station_id, ''), id)
    where status not in ('sent', 'dropped', 'rejected') and event_key not like 'periodic%' and lane is null;
