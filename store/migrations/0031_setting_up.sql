-- Setting up from nothing (issue 17, M1/M4/S4): unit codes, customer kinds,
-- an account's unit, and per-project settings changed through the API.

-- Units created through the API carry a code unique in their project; the
-- demo's units have none.
alter table units add column code text;
create unique index units_project_code on units(project_id, code) where code is not null;

alter table customers add column kind text not null default 'person' check (kind in ('person','company'));

-- 一户多表: an account is opened for a unit and groups its meters
-- (meters.account_id); each meter keeps its own balance.
alter table prepaid_accounts add column unit_id uuid references units(id);

-- Project settings (S4). Null is "not set": the server's default applies
-- (reading interval: VOLTFLOW_SWEEP_INTERVAL), no hoarding cap.
alter table projects add column reading_interval text;
alter table projects add column hoarding_cap numeric(18,2) check (hoarding_cap > 0);
alter table projects add column default_price numeric(18,4) check (default_price >= 0);
alter table projects add column alarm1 numeric(18,2) not null default 0 check (alarm1 >= 0);
alter table projects add column alarm2 numeric(18,2) not null default 0 check (alarm2 >= 0);
