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
