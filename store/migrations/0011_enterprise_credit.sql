-- Enterprise customers (企业客户), their prepaid recharges, credit accounts
-- with approved limits (信用额度), consumption on credit, billing cycles
-- (账单), repayments with receipts (收款单) and the e-mail outbox.
-- Every balance is the ledger's: wallets and receivables are ledger accounts.

create table enterprises (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    code       text not null,
    name       text not null,
    email      text not null,
    phone      text not null default '',
    created_at timestamptz not null default now(),
    unique (project_id, code)
);

create table enterprise_staff (
    id            uuid primary key,
    enterprise_id uuid not null references enterprises(id),
    name          text not null,
    phone         text not null default '',
    created_at    timestamptz not null default now()
);

-- Cards held by staff, as plain records (the charging side owns card state).
create table enterprise_cards (
    card_no       text not null,
    enterprise_id uuid not null references enterprises(id),
    staff_id      uuid not null references enterprise_staff(id),
    created_at    timestamptz not null default now(),
    primary key (enterprise_id, card_no)
);

-- 企业充值: apply → review → book.
create table enterprise_recharges (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    enterprise_id  uuid not null references enterprises(id),
    transaction_no text not null,
    amount         numeric(18,2) not null check (amount > 0),
    status         text not null,
    workflow_id    text not null,
    failure        text not null default '',
    created_by     uuid not null references operators(id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    unique (project_id, transaction_no)
);

-- One per enterprise once an opening is approved. Used credit is the
-- ledger balance of credit-receivable:<code>, never a column here.
create table credit_accounts (
    enterprise_id  uuid primary key references enterprises(id),
    project_id     uuid not null references projects(id),
    credit_limit   numeric(18,2) not null check (credit_limit >= 0),
    status         text not null check (status in ('active','suspended')),
    cycle_ms       bigint not null,
    due_after_ms   bigint not null,
    suspend_ms     bigint not null,
    opened_at      timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

-- 信用额度申请 (open) and 信用额度调整申请 (adjust).
create table credit_applications (
    id              uuid primary key,
    project_id      uuid not null references projects(id),
    enterprise_id   uuid not null references enterprises(id),
    application_no  text not null,
    kind            text not null check (kind in ('open','adjust')),
    requested_limit numeric(18,2) not null check (requested_limit >= 0),
    previous_limit  numeric(18,2),
    cycle_ms        bigint not null default 0,
    due_after_ms    bigint not null default 0,
    suspend_ms      bigint not null default 0,
    status          text not null,
    failure         text not null default '',
    workflow_id     text not null,
    created_by      uuid not null references operators(id),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    unique (project_id, application_no)
);

create table enterprise_bills (
    id              uuid primary key,
    project_id      uuid not null references projects(id),
    enterprise_id   uuid not null references enterprises(id),
    cycle_no        integer not null,
    period_start    timestamptz not null,
    period_end      timestamptz not null,
    opening_balance numeric(18,2) not null,
    consumption     numeric(18,2) not null,
    payments        numeric(18,2) not null,
    closing_balance numeric(18,2) not null,
    amount_due      numeric(18,2) not null, -- the cycle's consumption; settled by repayments oldest bill first
    paid            numeric(18,2) not null default 0 check (paid >= 0 and paid <= amount_due),
    status          text not null check (status in ('issued','overdue','written_off')),
    due_at          timestamptz not null,
    suspend_at      timestamptz not null,
    emailed_at      timestamptz,
    reminded_at     timestamptz,
    suspended_at    timestamptz,
    written_off_at  timestamptz,
    created_at      timestamptz not null default now(),
    unique (enterprise_id, cycle_no)
);

-- Consumption charged to credit; bill_id is set when a cycle closes.
create table credit_consumptions (
    id            uuid primary key,
    project_id    uuid not null references projects(id),
    enterprise_id uuid not null references enterprises(id),
    key           text not null,
    amount        numeric(18,2) not null check (amount > 0),
    description   text not null default '',
    bill_id       uuid references enterprise_bills(id),
    created_at    timestamptz not null default now(),
    unique (project_id, key)
);
create index credit_consumptions_unbilled on credit_consumptions(enterprise_id) where bill_id is null;

-- 还款 with its receipt (收款单); bill_id is the cycle it is listed in.
create table credit_repayments (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    enterprise_id  uuid not null references enterprises(id),
    transaction_no text not null,
    amount         numeric(18,2) not null check (amount > 0),
    receipt_no     text not null unique,
    bill_id        uuid references enterprise_bills(id),
    created_by     uuid references operators(id),
    created_at     timestamptz not null default now(),
    unique (project_id, transaction_no)
);
create index credit_repayments_unbilled on credit_repayments(enterprise_id) where bill_id is null;

-- E-mail sent (or held in the local outbox): bills, reminders, receipts.
create table mail_messages (
    id         uuid primary key,
    project_id uuid references projects(id),
    ref        text not null unique, -- idempotency: one message per bill, reminder, receipt
    recipient  text not null,
    subject    text not null,
    body       text not null,
    provider   text not null,
    status     text not null check (status in ('pending','sent','failed')),
    error      text not null default '',
    created_at timestamptz not null default now(),
    sent_at    timestamptz
);
create index mail_messages_created on mail_messages(created_at desc, id desc);
