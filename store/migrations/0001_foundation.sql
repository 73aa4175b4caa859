-- Foundation: tenancy, operators, sites, meters, ledger, recharges, task inbox, audit.

create table organisations (
    id   uuid primary key,
    code text not null unique,
    name text not null
);

create table projects (
    id              uuid primary key,
    organisation_id uuid not null references organisations(id),
    code            text not null unique,
    name            text not null,
    -- recharges up to this amount are approved by policy (foundation contract: 500.00)
    auto_approve_up_to numeric(18,2) not null default 500.00
);

create table operators (
    id            uuid primary key,
    organisation_id uuid not null references organisations(id),
    username      text not null unique,
    display_name  text not null,
    password_hash text not null,
    created_at    timestamptz not null default now()
);

create table operator_roles (
    operator_id uuid not null references operators(id),
    project_id  uuid not null references projects(id),
    role        text not null check (role in ('admin','cashier','approver','maintenance','viewer')),
    primary key (operator_id, project_id, role)
);

create table sessions (
    token_hash  bytea primary key,
    operator_id uuid not null references operators(id),
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);

-- Site hierarchy level1..level4 (e.g. park → building → floor → area), then units.
create table sites (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    parent_id  uuid references sites(id),
    level      smallint not null check (level between 1 and 4),
    name       text not null
);

create table units (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    site_id    uuid references sites(id),
    name       text not null
);

create table customers (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    name       text not null,
    phone      text not null default ''
);

create table prepaid_accounts (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    customer_id uuid not null references customers(id),
    account_no  text not null,
    status      text not null default 'open' check (status in ('open','closed')),
    opened_at   timestamptz not null default now(),
    unique (project_id, account_no)
);

create table gateways (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    code       text not null,
    protocol   text not null check (protocol in ('modbus-tcp','modbus-rtu-tcp','dlt645-tcp')),
    address    text not null, -- host:port
    unique (project_id, code)
);

create table meters (
    id           uuid primary key,
    project_id   uuid not null references projects(id),
    meter_no     text not null unique,
    gateway_id   uuid not null references gateways(id),
    unit_address integer not null, -- Modbus unit id on the gateway's bus
    profile      text not null,
    kind         text not null default 'electricity' check (kind in ('electricity','water','gas')),
    prepaid_mode text not null default 'meter' check (prepaid_mode in ('meter','platform')),
    unit_id      uuid references units(id),
    account_id   uuid references prepaid_accounts(id),
    price        numeric(18,4) not null,
    alarm1       numeric(18,2) not null default 0,
    alarm2       numeric(18,2) not null default 0,
    ct_ratio     integer not null default 1,
    pt_ratio     integer not null default 1,
    unique (gateway_id, unit_address)
);

-- The last state read from a meter (projection; the meter is the truth).
create table meter_state (
    meter_id             uuid primary key references meters(id),
    remaining            numeric(18,2) not null,
    purchase_count       integer not null,
    cumulative_purchased numeric(18,2) not null,
    energy_kwh           numeric(18,2) not null,
    relay                smallint not null,
    mode                 smallint not null,
    status_flags         integer not null,
    read_at              timestamptz not null
);

-- Every purchase-counter value we try to create on a meter. The meter's own
-- counter decides which claims were taken: that is what makes re-dispatch safe.
create table meter_purchases (
    id          bigserial primary key,
    meter_id    uuid not null references meters(id),
    counter     integer not null,
    recharge_id uuid not null,
    amount      numeric(18,2) not null,
    state       text not null check (state in ('claimed','applied','void')),
    claimed_at  timestamptz not null default now(),
    resolved_at timestamptz
);
create unique index meter_purchases_live on meter_purchases(meter_id, counter) where state <> 'void';
create unique index meter_purchases_applied on meter_purchases(recharge_id) where state = 'applied';

-- Double-entry ledger. Balances are derived from postings; ledger_accounts.balance
-- is kept in the same transaction and checked against the postings in tests.
create table ledger_accounts (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    code       text not null,
    kind       text not null check (kind in ('asset','liability','income','expense')),
    balance    numeric(18,2) not null default 0,
    unique (project_id, code)
);

create table journal_entries (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    key        text not null,
    kind       text not null,
    memo       text not null default '',
    created_at timestamptz not null default now(),
    unique (project_id, key)
);

create table postings (
    id         bigserial primary key,
    entry_id   uuid not null references journal_entries(id),
    account_id uuid not null references ledger_accounts(id),
    amount     numeric(18,2) not null check (amount <> 0)
);
create index postings_account on postings(account_id);
create index postings_entry on postings(entry_id);

-- Entries are immutable: corrections are new entries.
create function ledger_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'ledger rows are immutable (% on %)', tg_op, tg_table_name;
end $$;
create trigger journal_entries_immutable before update or delete on journal_entries
    for each row execute function ledger_immutable();
create trigger postings_immutable before update or delete on postings
    for each row execute function ledger_immutable();

-- Checked at commit, so an entry is written posting by posting yet never lands unbalanced.
create function ledger_entry_balanced() returns trigger language plpgsql as $$
declare s numeric;
begin
    select coalesce(sum(amount), 0) into s from postings where entry_id = new.entry_id;
    if s <> 0 then
        raise exception 'journal entry % does not balance (sum %)', new.entry_id, s;
    end if;
    return null;
end $$;
create constraint trigger postings_balanced after insert on postings
    deferrable initially deferred for each row execute function ledger_entry_balanced();

create table recharges (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    meter_id       uuid not null references meters(id),
    meter_no       text not null,
    transaction_no text not null,
    amount         numeric(18,2) not null check (amount > 0),
    status         text not null,
    needs_approval boolean not null,
    workflow_id    text not null,
    created_by     uuid not null references operators(id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    completed_at   timestamptz,
    meter_counter  integer,
    failure        text not null default '',
    unique (project_id, transaction_no)
);
create index recharges_project_created on recharges(project_id, created_at desc, id desc);

-- Task inbox: one row per decision a workflow waits for.
create table tasks (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    kind        text not null,
    subject     text not null,
    role        text not null,
    workflow_id text not null,
    status      text not null check (status in ('pending','approved','rejected','expired')),
    details     jsonb not null default '{}',
    created_at  timestamptz not null default now(),
    decided_by  uuid references operators(id),
    decided_by_name text,
    decided_at  timestamptz,
    comment     text not null default '',
    unique (workflow_id, kind)
);
create index tasks_project_status on tasks(project_id, status, created_at);

create table audit_log (
    id           bigserial primary key,
    at           timestamptz not null default now(),
    operator_id  uuid,
    username     text not null default '',
    project_id   uuid,
    action       text not null,
    subject      text not null default '',
    status       integer not null,
    request_id   text not null default '',
    detail       jsonb not null default '{}'
);
create index audit_log_at on audit_log(at desc);
