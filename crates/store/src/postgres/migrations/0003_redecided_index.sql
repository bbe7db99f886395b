-- The volume (caps) rebuilt when a partition is taken over counts a message released from
-- deferral on the day of its release: recent sends are found by either decision time.
CREATE INDEX messages_redecided ON messages (current_decided_at)
    WHERE current_decided_at IS NOT NULL;
