-- Finance (issue 7, part F5–F7 and M4): vouchers (代金券), invoices (开票) and
-- account closing (销户). Every value is booked in the ledger; these tables are
-- the applications, their decisions and what the ledger cannot say (who holds
-- which voucher, which recharge an invoice covers).

-- Issuing groups (发券组): a named list of customers to issue vouchers to.
create table issuing_groups (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    name       text not null,
    created_by uuid not null references operators(id),
    created_at timestamptz not null default now(),
    unique (project_id, name)
);

create table issuing_group_members (
    group_id    uuid not null references issuing_groups(id),
    customer_id uuid not null references customers(id),
    primary key (group_id, customer_id)
);

-- A voucher batch is one application (电子券申请): face value, how many, until
-- when. Once approved it is issued to customers (电子券发放), which is reviewed
-- again; only then do vouchers exist and get booked.
create table voucher_batches (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    transaction_no text not null,
    name           text not null,
    face_value     numeric(18,2) not null check (face_value > 0),
    quantity       integer not null check (quantity > 0),
    expires_at     timestamptz not null,
    status         text not null check (status in ('pending_approval','approved','issuing','issued',
                       'rejected','issuance_rejected','expired')),
    issuing_group_id uuid references issuing_groups(id),
    workflow_id    text not null,
    created_by     uuid not null references operators(id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    reason         text not null default '',
    unique (project_id, transaction_no)
);
create index voucher_batches_project on voucher_batches(project_id, created_at desc, id desc);

-- The customers an issuance names, written when the issuance is applied for.
create table voucher_batch_recipients (
    batch_id    uuid not null references voucher_batches(id),
    customer_id uuid not null references customers(id),
    primary key (batch_id, customer_id)
);

-- One voucher held by one customer. Its unused value is the ledger account
-- voucher:<voucher_no>, never a column here.
create table vouchers (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    batch_id    uuid not null references voucher_batches(id),
    voucher_no  text not null unique,
    customer_id uuid not null references customers(id),
    face_value  numeric(18,2) not null check (face_value > 0),
    status      text not null check (status in ('active','used','voided','expired')),
    expires_at  timestamptz not null,
    issued_at   timestamptz not null default now(),
    closed_at   timestamptz
);
create index vouchers_customer on vouchers(customer_id);
create index vouchers_batch on vouchers(batch_id);

-- Redemptions of a voucher against a recharge (the voucher paid part of it).
create table voucher_redemptions (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    voucher_id  uuid not null references vouchers(id),
    recharge_id uuid not null references recharges(id),
    meter_id    uuid not null references meters(id),
    amount      numeric(18,2) not null check (amount > 0),
    entry_key   text not null unique,
    created_by  uuid not null references operators(id),
    created_at  timestamptz not null default now()
);
create index voucher_redemptions_recharge on voucher_redemptions(recharge_id);

-- Voiding a voucher (代金券作废申请) needs an approver.
create table voucher_voids (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    voucher_id  uuid not null references vouchers(id),
    reason      text not null,
    status      text not null check (status in ('pending_approval','completed','rejected')),
    workflow_id text not null,
    created_by  uuid not null references operators(id),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
-- One void under way per voucher; a rejected one leaves room for another.
create unique index voucher_voids_once on voucher_voids(voucher_id) where status <> 'rejected';

-- Invoices (开票) against paid transactions (completed recharges).
create sequence invoice_numbers;
create table invoices (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    transaction_no text not null,
    title          text not null,
    tax_id         text not null,
    amount         numeric(18,2) not null check (amount > 0),
    status         text not null check (status in ('pending_approval','issued','rejected')),
    invoice_no     text unique,
    workflow_id    text not null,
    created_by     uuid not null references operators(id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    issued_at      timestamptz,
    reason         text not null default '',
    unique (project_id, transaction_no)
);
create index invoices_project on invoices(project_id, created_at desc, id desc);

create table invoice_lines (
    invoice_id  uuid not null references invoices(id),
    recharge_id uuid not null references recharges(id),
    amount      numeric(18,2) not null,
    released    boolean not null default false, -- the invoice was rejected
    primary key (invoice_id, recharge_id)
);
-- A transaction is invoiced once: an application holds it, issuing keeps it,
-- only a rejection releases it.
create unique index invoice_lines_once on invoice_lines(recharge_id) where not released;

-- Account closing (销户) of a prepaid meter: settle, refund the refundable
-- remainder through the refund workflow, close. A closing under way or done
-- stops further sales to the meter.
create table account_closings (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    meter_id       uuid not null references meters(id),
    meter_no       text not null,
    transaction_no text not null,
    reason         text not null default '',
    refund_id      uuid references refunds(id),
    refund_amount  numeric(18,2) not null default 0,
    final_balance  numeric(18,2),
    written_off    numeric(18,2),
    status         text not null check (status in ('closing','closed','rejected')),
    workflow_id    text not null,
    created_by     uuid not null references operators(id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    closed_at      timestamptz,
    failure        text not null default '',
    unique (project_id, transaction_no)
);
create unique index account_closings_once on account_closings(meter_id) where status <> 'rejected';
