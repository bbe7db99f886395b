"""A client built on PyPI `smpplib`: binds as a transmitter to consentry's SMPP listener and submits
one long text as UDH-concatenated UCS-2 parts. Prints one JSON line: part count and every
submit_sm_resp (status, message id).

Usage: python3 smpplib_multipart.py <port> <system_id> <password> <to> <text>
"""
import json
import sys

import smpplib.client
import smpplib.consts
import smpplib.gsm

port, system_id, password, to, text = sys.argv[1:6]
client = smpplib.client.Client("127.0.0.1", int(port), timeout=10)
responses = []
client.set_message_sent_handler(
    lambda pdu: responses.append({"status": pdu.status, "message_id": pdu.message_id.decode()
                                  if isinstance(pdu.message_id, bytes) else pdu.message_id}))
client.connect()
client.bind_transmitter(system_id=system_id, password=password)
parts, encoding_flag, msg_type_flag = smpplib.gsm.make_parts(text)
for part in parts:
    client.send_message(
        source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
        source_addr="SHOP",
        dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
        dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
        destination_addr=to,
        service_type="TXN",
        short_message=part,
        data_coding=encoding_flag,
        esm_class=msg_type_flag,
        registered_delivery=False,
    )
while len(responses) < len(parts):
    client.read_once()
client.unbind()
client.disconnect()
print(json.dumps({"parts": len(parts), "data_coding": encoding_flag, "responses": responses}))
