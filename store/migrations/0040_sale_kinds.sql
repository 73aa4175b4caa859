-- Every way to sell and refund (issue 20, M5).
-- A sale is by money or by kWh (电度方式: kwh and the price it was sold at are
-- kept), a plain sale or an adjustment (调整电费充值, with its reason).
alter table recharges
    add column kind   text not null default 'sale' check (kind in ('sale','adjustment')),
    add column kwh    numeric(18,2),
    add column price  numeric(18,4),
    add column ratio  integer,
    add column reason text not null default '';
-- A full refund (彻底退费) took the whole refundable balance; keep_power
-- (不断电退费) keeps the relay closed: the meter goes into protect mode (保电)
-- before the deduction.
alter table refunds
    add column full_refund boolean not null default false,
    add column keep_power  boolean not null default false;
-- The meter's state just before and after each operation, for receipts.
alter table meter_purchases
    add column remaining_before numeric(18,2),
    add column remaining_after  numeric(18,2);
