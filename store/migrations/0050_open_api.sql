-- The open API for third-party systems (issue 21 §1, M12): per-key
-- settings (signature mandatory, rate limit), the nonces of signed requests
-- (kept here, not in a process, so a replay is refused by every API
-- process), and each key's current rate window (shared the same way).
alter table api_keys
    add column require_signature   boolean not null default false,
    add column rate_limit          integer not null default 600 check (rate_limit between 1 and 1000000),
    add column rate_window_seconds integer not null default 60 check (rate_window_seconds between 1 and 3600);

create table api_key_nonces (
    key_id     uuid not null references api_keys(id) on delete cascade,
    nonce      text not null,
    expires_at timestamptz not null,
    primary key (key_id, nonce)
);
create index api_key_nonces_expiry on api_key_nonces(key_id, expires_at);

-- A fixed window per key: one row, counted up by an upsert per request.
create table api_key_windows (
    key_id       uuid primary key references api_keys(id) on delete cascade,
    window_start timestamptz not null,
    count        integer not null
);
