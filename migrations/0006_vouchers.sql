-- Vouchers (issue 24): the record under its code. A claim locks the voucher's row
-- (`SELECT … FOR UPDATE`) while it takes a use, in the transaction that makes the
-- registration, so concurrent claims in any number of instances count the uses exactly.
-- The registration keeps a copy of what the voucher granted (its record's `voucher`).

CREATE TABLE vouchers (
    code text PRIMARY KEY,
    record jsonb NOT NULL
);
