-- Driver app content (issue 23 section 3, C12; seed 000 "App管理"): news and
-- banners with publish windows, system messages to drivers, feedback threads,
-- station comments with moderation, and the driver tokens a driver app calls
-- with. A driver is a charging customer (customers); private-message groups
-- (私信组) are the customer groups of C5 (customer_groups), not a new table.

-- A driver token is bound to one customer of one project; only its SHA-256
-- is kept (the token is shown once, like an API key).
create table driver_tokens (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    customer_id uuid not null references customers(id),
    token_hash  bytea not null unique,
    created_at  timestamptz not null default now(),
    revoked_at  timestamptz
);

-- News (新闻) and banners (轮播图) of a project. A row is served to drivers
-- only inside [publish_from, publish_to) (publish_to null: open-ended).
create table app_posts (
    id           uuid primary key,
    project_id   uuid not null references projects(id),
    kind         text not null check (kind in ('news','banner')),
    title        text not null,
    body         text not null default '',
    image_url    text not null default '',
    link_url     text not null default '',
    position     integer not null default 0,
    publish_from timestamptz not null,
    publish_to   timestamptz,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    check (publish_to is null or publish_to > publish_from)
);
create index app_posts_served on app_posts(project_id, kind, position, publish_from desc);

-- System messages (系统消息) to all drivers of a project, to a customer
-- group, or to one driver. recipients is the group's members when the
-- message was sent (or the one driver): a message to a group reaches those
-- who were in it, not whoever joins later.
create table app_messages (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    audience    text not null check (audience in ('all','group','customer')),
    group_id    uuid references customer_groups(id),
    customer_id uuid references customers(id),
    recipients  uuid[] not null default '{}',
    title       text not null,
    body        text not null default '',
    created_at  timestamptz not null default now(),
    check ((audience = 'group') = (group_id is not null)),
    check ((audience = 'customer') = (customer_id is not null))
);
create index app_messages_project on app_messages(project_id, created_at desc, id);
create index app_messages_recipients on app_messages using gin (recipients);

create table app_message_reads (
    message_id  uuid not null references app_messages(id) on delete cascade,
    customer_id uuid not null references customers(id),
    read_at     timestamptz not null default now(),
    primary key (message_id, customer_id)
);

-- Feedback (反馈) from a driver, answered by operators in a thread.
create table app_feedback (
    id          uuid primary key,
    project_id  uuid not null references projects(id),
    customer_id uuid not null references customers(id),
    subject     text not null,
    status      text not null check (status in ('open','answered','closed')),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index app_feedback_project on app_feedback(project_id, created_at desc, id);
create index app_feedback_customer on app_feedback(customer_id, created_at desc, id);

create table app_feedback_posts (
    id          uuid primary key,
    feedback_id uuid not null references app_feedback(id) on delete cascade,
    author      text not null check (author in ('driver','operator')),
    operator_id uuid references operators(id),
    body        text not null,
    created_at  timestamptz not null default now()
);
create index app_feedback_posts_thread on app_feedback_posts(feedback_id, created_at, id);

-- Station comments (电站评论): a rating and text by a driver; an operator
-- hides or shows them, and a hidden one is not served to drivers.
create table station_comments (
    id           uuid primary key,
    project_id   uuid not null references projects(id),
    station_id   char(20) not null references charging_stations(station_id),
    customer_id  uuid not null references customers(id),
    rating       smallint not null check (rating between 1 and 5),
    body         text not null default '',
    hidden       boolean not null default false,
    moderated_by uuid references operators(id),
    moderated_at timestamptz,
    created_at   timestamptz not null default now()
);
create index station_comments_station on station_comments(station_id, created_at desc, id);
create index station_comments_project on station_comments(project_id, created_at desc, id);
