-- Enterprise charging (F3), vouchers and invoices on charging orders (F5-F7)
-- and the order deduction detail (订单扣费明细).

-- Who paid an order: the card's own wallet, the enterprise's credit line or
-- the enterprise's prepaid wallet. enterprise_id is set for the latter two.
alter table charging_orders add column enterprise_id uuid references enterprises(id);
alter table charging_orders add column paid_by text not null default 'wallet'
    check (paid_by in ('wallet','credit','enterprise_wallet'));
-- What a voucher took off the order after settlement (never more than amount).
alter table charging_orders add column voucher_amount numeric(18,2) not null default 0 check (voucher_amount >= 0);
-- The service fee the monthly package waived on the order (订单扣费明细: package).
alter table charging_orders add column package_waived numeric(18,2) not null default 0;
create index charging_orders_enterprise on charging_orders(enterprise_id, created_at desc) where enterprise_id is not null;

-- A voucher's rule on charging: it pays the whole amount or only the service
-- fee. Set on the batch's application, copied to each voucher it issues.
alter table voucher_batches add column charging_rule text not null default 'whole' check (charging_rule in ('whole','service_fee'));
alter table vouchers add column charging_rule text not null default 'whole' check (charging_rule in ('whole','service_fee'));

-- A voucher redeemed against a charging order: at most one per order.
create table charging_voucher_redemptions (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    voucher_id uuid not null references vouchers(id),
    order_id   uuid not null unique references charging_orders(id),
    amount     numeric(18,2) not null check (amount > 0),
    created_by uuid references operators(id),
    created_at timestamptz not null default now()
);

-- Invoices of charging orders; an order is on at most one (order_id is the key).
create sequence charging_invoice_seq;
create table charging_invoices (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    invoice_no text not null unique,
    title      text not null,
    tax_no     text not null default '',
    amount     numeric(18,2) not null check (amount > 0),
    created_by uuid references operators(id),
    created_at timestamptz not null default now()
);
create table charging_invoice_orders (
    order_id   uuid primary key references charging_orders(id),
    invoice_id uuid not null references charging_invoices(id),
    amount     numeric(18,2) not null
);

-- The monthly package's fee (终端包月), booked once when the package is bought.
alter table charging_packages add column fee numeric(18,2) not null default 0 check (fee >= 0);

-- Vehicles and fleets (C6): bus routes (公交线路) a vehicle is bound to, for
-- the vehicle list, its export and per-vehicle charging statistics.
create table bus_routes (
    id         uuid primary key,
    project_id uuid not null references projects(id),
    code       text not null,
    name       text not null,
    created_at timestamptz not null default now(),
    unique (project_id, code)
);
alter table vehicles add column route_id uuid references bus_routes(id);
create index charging_orders_vin on charging_orders(vin, started_at) where vin is not null;
