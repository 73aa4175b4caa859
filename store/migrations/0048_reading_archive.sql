-- Reading archive (S5): a project's readings older than its retention leave
-- the hot readings table as one gzip-compressed file per project and month.
--
-- readings is partitioned by month alone (0003_readings.sql): one
-- partition holds every project's readings of that month. Retention is a
-- project's setting, so a project's month leaves its partition by its own
-- rows (exported, then deleted in chunks); a partition that no project has
-- rows in any more is then detached CONCURRENTLY and dropped.

-- Months of readings kept in PostgreSQL, counted back from the current
-- month; null keeps every month (nothing is archived automatically).
alter table projects add column reading_retention_months integer
    check (reading_retention_months between 1 and 120);

-- One row per project and month that left (or is leaving) the hot table.
-- status: exporting (the file is being written; no row deleted yet),
-- written (the file is on disk and verified; rows are being deleted),
-- archived (no row of the month left in PostgreSQL), restoring (rows are
-- being copied back from the file), restored (every row is back, checked
-- against the checksum).
create table reading_archives (
    project_id  uuid not null references projects(id),
    month       date not null check (extract(day from month) = 1),
    status      text not null check (status in ('exporting', 'written', 'archived', 'restoring', 'restored')),
    file        text not null default '', -- its name in the archive directory
    row_count   bigint not null default 0,
    -- SHA-256 of the rows as the file holds them uncompressed (COPY text,
    -- UTC, ordered by meter and time): a restore recomputes it from the
    -- table and must find the same.
    sha256      text not null default '',
    file_sha256 text not null default '', -- of the .gz file itself
    bytes       bigint not null default 0, -- size of the .gz file
    archived_at timestamptz,
    restored_at timestamptz,
    updated_at  timestamptz not null default now(),
    primary key (project_id, month)
);
