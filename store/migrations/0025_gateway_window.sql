-- How many Modbus TCP requests a gateway takes at once. Many serial
-- servers forward one request and drop whatever arrives while the RS-485
-- bus is busy: for them it is 1. Null is the platform's default
-- (devices/modbus.DefaultMaxInFlight). RTU over TCP and DL/T 645 gateways
-- are always asked one request at a time.
alter table gateways add column max_in_flight smallint
    check (max_in_flight between 1 and 256 and (max_in_flight = 1 or protocol = 'modbus-tcp'));
