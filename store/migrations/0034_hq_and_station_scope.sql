-- Group HQ (集团总部, issue 17 M1): a role held on an organisation, not on
-- a project. It sees every project of the organisation, those created
-- later too (read and reports); each project's money stays its own.
create table operator_organisation_roles (
    operator_id     uuid not null references operators(id),
    organisation_id uuid not null references organisations(id),
    role            text not null check (role in ('hq')),
    granted_at      timestamptz not null default now(),
    primary key (operator_id, organisation_id, role)
);

-- Empty: every station of the project; otherwise only these stations'
-- chargers, connectors and charging orders (like site_ids for meters).
alter table operator_roles add column station_ids text[] not null default '{}';
