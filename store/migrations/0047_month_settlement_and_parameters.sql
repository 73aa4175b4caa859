-- Month-end settlement day (月底结算日, issue 20 §8) and electrical
-- parameters (电参量) per reading.

-- The project's settlement day: '1'..'28' closes a month at the end of that
-- day (China time), 'last' at the end of the calendar month. Null: no
-- scheduled settlement (a month can still be settled by hand).
alter table projects add column settlement_day text
    check (settlement_day in ('1','2','3','4','5','6','7','8','9','10','11','12','13','14','15','16','17','18','19','20',
                              '21','22','23','24','25','26','27','28','last'));

-- One row per settled project month; written once, with its accounts, in
-- one transaction. A closed month is never rewritten: corrections booked
-- later fall into the next month.
create table month_settlements (
    project_id     uuid not null references projects(id),
    month          text not null check (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    period_from    timestamptz not null,
    period_to      timestamptz not null,
    settlement_day text not null,
    accounts       integer not null,
    settled_at     timestamptz not null default now(),
    primary key (project_id, month)
);

-- Each prepaid wallet's month: opening + recharged − refunded − consumed −
-- fees + other = closing. The cum_ columns are the wallet's totals by kind
-- over every entry created before period_to, as seen when the month was
-- settled; the next month's figures are its own totals less these, so an
-- entry that committed late (created before the end, seen after) is counted
-- once, in the next month.
create table month_settlement_accounts (
    project_id    uuid not null,
    month         text not null,
    account       text not null,
    opening       numeric(18,2) not null,
    recharged     numeric(18,2) not null,
    refunded      numeric(18,2) not null,
    consumed      numeric(18,2) not null,
    fees          numeric(18,2) not null,
    other         numeric(18,2) not null,
    closing       numeric(18,2) not null,
    cum_recharged numeric(18,2) not null,
    cum_refunded  numeric(18,2) not null,
    cum_consumed  numeric(18,2) not null,
    cum_fees      numeric(18,2) not null,
    cum_other     numeric(18,2) not null,
    primary key (project_id, month, account),
    -- deferred: the accounts are written first, then the header with their count
    foreign key (project_id, month) references month_settlements(project_id, month) deferrable initially deferred,
    check (closing = opening + recharged - refunded - consumed - fees + other)
);
create index month_settlement_accounts_account on month_settlement_accounts(project_id, account, month);

create trigger month_settlements_immutable before update or delete on month_settlements
    for each row execute function ledger_immutable();
create trigger month_settlement_accounts_immutable before update or delete on month_settlement_accounts
    for each row execute function ledger_immutable();

-- Electrical parameters of a reading, for meters whose profile has them
-- (three-phase meters): written in the same batch as the reading, in their
-- own table so the hot readings rows stay narrow. Phase values are null
-- where the profile has no register for them.
create table reading_parameters (
    meter_id       uuid not null,
    read_at        timestamptz not null,
    ua_v           numeric(8,1),
    ub_v           numeric(8,1),
    uc_v           numeric(8,1),
    ia_a           numeric(10,3),
    ib_a           numeric(10,3),
    ic_a           numeric(10,3),
    pa_kw          numeric(12,3),
    pb_kw          numeric(12,3),
    pc_kw          numeric(12,3),
    p_kw           numeric(12,3),
    qa_kvar        numeric(12,3),
    qb_kvar        numeric(12,3),
    qc_kvar        numeric(12,3),
    q_kvar         numeric(12,3),
    pfa            numeric(5,3),
    pfb            numeric(5,3),
    pfc            numeric(5,3),
    pf             numeric(5,3),
    ct_ratio       integer,
    pt_ratio       integer,
    max_demand_kw  numeric(12,3),
    max_demand_at  timestamptz,
    primary key (meter_id, read_at)
);
