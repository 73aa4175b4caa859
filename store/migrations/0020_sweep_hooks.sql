-- The sweep's alarm hook asks, for every write of a few thousand readings,
-- which of their meters have an alarm amount set. Most meters of a large
-- project often have none: this index answers that without touching them,
-- where the primary key would fetch every meter's row to look.
create index meters_alarm_set on meters (id) where alarm1 > 0;
