-- A phone's messages are found through messages_phone_id (phone, id), made in 0004. The older
-- (phone, delivery_at) index cost every send two random index writes — one when the message
-- was recorded and one when its hand-off or receipt moved its delivery time — for queries that
-- read a few of one phone's messages, which the (phone, id) key finds as well.
DROP INDEX IF EXISTS messages_phone;
