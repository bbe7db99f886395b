-- The complaints queue sorts and filters in the store (#12): an index for each filter and order
-- it offers (store::complaint_list), so a page reads only its rows. No sender reads as 0 when
-- sorting by sender. A merchant's queue leaves out the unverified complaints: partial indexes
-- hold only what it shows.
CREATE INDEX complaints_sender_id ON complaints (sender_id, id);
CREATE INDEX complaints_verdict_id ON complaints (verdict, id);
CREATE INDEX complaints_sender_verdict_id ON complaints (sender_id, verdict, id);
CREATE INDEX complaints_any_sender_id ON complaints ((coalesce(sender_id, 0)), id);
CREATE INDEX complaints_verdict_any_sender_id ON complaints (verdict, (coalesce(sender_id, 0)), id);
CREATE INDEX complaints_visible_sender_id ON complaints (sender_id, id)
    WHERE verdict <> 'unverified';
CREATE INDEX complaints_visible_sender_verdict_id ON complaints (sender_id, verdict, id)
    WHERE verdict <> 'unverified';
