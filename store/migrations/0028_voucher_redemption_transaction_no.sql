-- A redemption's idempotency key is the cashier's transaction number, unique
-- per project, not a key unique across tenants. This change was once made in
-- 0012_finance.sql after that file was applied: a database created from the
-- first 0012 has entry_key (holding the same value, the redemption's key) and
-- is converted here; one created from the edited 0012 has transaction_no
-- already and is left as it is.
do $$
begin
    if exists (select 1 from information_schema.columns
               where table_schema = current_schema() and table_name = 'voucher_redemptions'
                 and column_name = 'entry_key') then
        alter table voucher_redemptions drop constraint voucher_redemptions_entry_key_key;
        alter table voucher_redemptions rename column entry_key to transaction_no;
        alter table voucher_redemptions add constraint voucher_redemptions_project_id_transaction_no_key
            unique (project_id, transaction_no);
    end if;
end $$;
