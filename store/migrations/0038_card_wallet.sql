-- Card wallets (F2): recharges (充值, cash or transfer) and refunds (退款) of
-- the prepaid account behind a charging card, each apply → review → book.
-- The money itself is the ledger's customer-wallet:<account no>; this table
-- is the applications and their status, idempotent by transaction number.
create table card_wallet_requests (
    id             uuid primary key,
    project_id     uuid not null references projects(id),
    kind           text not null check (kind in ('recharge','refund')),
    card_no        text not null references cards(card_no),
    account_no     text not null,
    method         text not null default '' check (method in ('','cash','transfer')),
    transaction_no text not null,
    amount         numeric(18,2) not null check (amount > 0),
    status         text not null,
    needs_approval boolean not null,
    workflow_id    text not null,
    failure        text not null default '',
    created_by     uuid references operators(id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    unique (project_id, kind, transaction_no)
);
create index card_wallet_requests_card on card_wallet_requests(card_no, created_at);
