-- meter_state is a projection every sweep rewrites for every meter. Its
-- foreign key to meters made a project's first sweep check and row-lock
-- 100,000 meters rows, one SPI query each (a sixth of PostgreSQL's CPU in
-- that sweep). Meters are never deleted (a meter leaves service by status),
-- so the key guarded nothing a sweep can break; the sweep writes only ids
-- it has just read from meters.
alter table meter_state drop constraint if exists meter_state_meter_id_fkey;
