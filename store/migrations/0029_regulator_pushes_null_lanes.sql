-- The claim reads the lanes' heads from regulator_pushes_lanes (DISTINCT ON),
-- rows with a null lane included, so regulator_pushes_null_lanes from
-- 0026_regulator_push_lane.sql is not needed. (Once removed from 0026 after
-- that file was applied; a database created from the edited 0026 never had it.)
drop index if exists regulator_pushes_null_lanes;
