-- Operators and permissions (issue 17, S1/S2): platform administrators,
-- disabling, forced password change, site-scoped roles, login lock-out,
-- revocable sessions and project API keys.

-- A platform administrator created by `voltflow admin create` on an empty
-- database belongs to no organisation.
alter table operators alter column organisation_id drop not null;
alter table operators add column platform_admin boolean not null default false;
alter table operators add column disabled_at timestamptz;
alter table operators add column must_change_password boolean not null default false;
-- An API key acts through an operator row of its own (kind 'api_key') so that
-- what it creates has a created_by like any other write; it cannot log in.
alter table operators add column kind text not null default 'person' check (kind in ('person','api_key'));

-- Empty: the whole project; otherwise only meters of units under these site subtrees.
alter table operator_roles add column site_ids uuid[] not null default '{}';

-- Every session can be listed and revoked by its id.
alter table sessions add column id bigserial unique;
create index sessions_operator on sessions(operator_id);

-- Failed logins, by username (known or not), for the lock-out window.
create table login_failures (
    username text not null,
    at       timestamptz not null default now()
);
create index login_failures_username_at on login_failures(username, at);

create table api_keys (
    id           uuid primary key,
    project_id   uuid not null references projects(id),
    operator_id  uuid not null unique references operators(id),
    name         text not null,
    key_hash     bytea not null unique, -- sha256 of the key: keys are 256-bit random
    created_by   uuid references operators(id),
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

create index audit_log_username_at on audit_log(username, at desc);
