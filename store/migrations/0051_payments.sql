-- Online payment (issue 21 §4, M15): a payment order at WeChat Pay (or
-- Alipay) that becomes an ordinary recharge, idempotent by its order number
-- (the recharge's transaction number), once the provider says it is paid.
create table payments (
    id              uuid primary key,
    order_no        text not null unique,          -- out_trade_no at the provider
    project_id      uuid not null references projects(id),
    meter_id        uuid not null references meters(id),
    meter_no        text not null,
    provider        text not null check (provider in ('wechat','alipay')),
    channel         text not null,                 -- native | jsapi | page
    amount          numeric(18,2) not null check (amount > 0),
    status          text not null default 'created'
                    check (status in ('created','credited','closed','amount_mismatch')),
    provider_txn_id text not null default '',
    paid_amount     numeric(18,2),
    paid_at         timestamptz,
    recharge_id     uuid references recharges(id),
    code_url        text not null default '',
    prepay_id       text not null default '',
    payer           text not null default '',      -- the tenant's phone, or the operator
    workflow_id     text not null,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);
create index payments_meter on payments(meter_id, created_at desc);
create index payments_project_created on payments(project_id, created_at);

-- Every payment callback received, verified or not: a forged or replayed
-- one leaves its trace here.
create table payment_notifications (
    id          bigserial primary key,
    provider    text not null,
    order_no    text not null default '',
    verified    boolean not null,
    outcome     text not null,
    received_at timestamptz not null default now()
);
create index payment_notifications_order on payment_notifications(order_no);
