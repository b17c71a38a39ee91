-- Licence seats (issue 27): a queued registration whose licence has no free seat waits for
-- one, and says which SKU it waits for (the status "waiting for a licence" on its page, in
-- `signups list` and in the metrics). NULL: it waits for nothing in particular.

ALTER TABLE queue ADD COLUMN waiting_for_seat text;
