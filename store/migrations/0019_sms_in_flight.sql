-- A provider call whose outcome is not recorded yet: set before the call,
-- cleared when the provider's answer is recorded. A retry that finds it set
-- asks that provider whether it already has the message before resending.
alter table sms_messages add column in_flight_provider text not null default '';
alter table sms_messages add column in_flight_at timestamptz;
