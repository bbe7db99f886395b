-- The reason codes of each message's current decision, one row per code, written with the
-- decision (store::postgres::reason_codes): the message search by reason reads the code's key
-- range instead of matching each candidate row's reasons JSON. Filled here from the messages
-- a store already holds.
CREATE TABLE message_reasons (
    code       TEXT   NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (code, message_id)
);
INSERT INTO message_reasons (code, message_id)
    SELECT DISTINCT j->>'code', m.id
    FROM messages m, jsonb_array_elements(coalesce(m.current_reasons, m.reasons)::jsonb) j
    WHERE j->>'code' IS NOT NULL
    ON CONFLICT DO NOTHING;
