-- Alert delivery is claim -> send -> mark.  Before an alert is sent its row is
-- set to status 'sending' with the time of the attempt and a lease; the send
-- then marks it 'delivered' (or back to 'pending' with the error).  A row left
-- in 'sending' by a crash is resent, with the same alert id as its
-- idempotency key, once its lease has run out.
ALTER TABLE alerts ADD COLUMN last_attempt_at TIMESTAMPTZ;
ALTER TABLE alerts ADD COLUMN claimed_until TIMESTAMPTZ;
