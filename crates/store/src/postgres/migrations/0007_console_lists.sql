-- The console's sortable, filterable lists (#12): every sort column has an index ending in id
-- (the tie-break), and the category-by-day search an index on the first decision's time.
CREATE INDEX messages_status_id ON messages ((coalesce(current_status, status)), id);
CREATE INDEX messages_category_decided ON messages (category, decided_at);
-- A day's search by a reason that refuses reads that day's refused and held messages only.
CREATE INDEX messages_refused_decided ON messages (decided_at)
    WHERE coalesce(current_status, status) <> 'accepted';
-- (A merchant's consent summary and its recent changes read consent_events_sender, made in 0001.)
-- An operator disables a staff account: it cannot sign in and its sessions end.
ALTER TABLE console_accounts ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
