-- Tenant self-service (issue 21 §3, M15): a tenant logs in by phone number
-- and a one-time SMS code. Codes and session tokens are kept as SHA-256
-- hashes only.
create table tenant_login_codes (
    id          uuid primary key,
    phone       text not null,
    code_hash   bytea not null,
    expires_at  timestamptz not null,
    attempts    integer not null default 0,
    used_at     timestamptz,
    created_at  timestamptz not null default now()
);
create index tenant_login_codes_phone on tenant_login_codes(phone, created_at desc);

create table tenant_sessions (
    token_hash  bytea primary key,
    phone       text not null,
    expires_at  timestamptz not null,
    created_at  timestamptz not null default now()
);
create index tenant_sessions_phone on tenant_sessions(phone);

-- A tenant's meters are found from the phone: customer → open account →
-- meters, each step by index, so the balance page stays fast with 100,000
-- meters.
create index if not exists customers_phone on customers(phone);
create index if not exists prepaid_accounts_customer on prepaid_accounts(customer_id);
create index if not exists meters_account on meters(account_id);
