-- Regulator push pump: one long-running activity per regulator tails the
-- outbox instead of a Temporal signal and activity per push.
--
-- next_at: when a pending push may be tried again (null: at once); the pump
-- backs a failed push off here, so its lane waits behind it in order.
alter table regulator_pushes add column next_at timestamptz;

-- The pump's claim scans only pending pushes that are retried until taken
-- (not the periodic snapshots, which stay pending as history when missed).
create index regulator_pushes_outbox on regulator_pushes(regulator, id)
    where status = 'pending' and event_key not like 'periodic%';

-- Every retried push wakes the pump (LISTEN regulator_outbox): delivered on
-- commit, one per transaction, whichever code path wrote the row.
create function regulator_outbox_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('regulator_outbox', new.regulator);
    return null;
end $$;
create trigger regulator_pushes_notify after insert on regulator_pushes
    for each row when (new.event_key not like 'periodic%') execute function regulator_outbox_notify();
