"""An ESME built on PyPI `smpplib`, reading receipts the way its users do: binds as a transceiver,
submits a Chinese (UCS-2) text asking for a receipt, and reads the receipt's short_message as
ASCII and matches `stat:(\\w+)` in it. Prints one JSON line.

Usage: python3 smpplib_receipt.py <port> <system_id> <password> <to> <text>
"""
import json
import re
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.gsm

port, system_id, password, to, text = sys.argv[1:6]
client = smpplib.client.Client("127.0.0.1", int(port), timeout=10)
out = {"submits": [], "receipts": []}


def sent(pdu):
    mid = pdu.message_id
    out["submits"].append({"status": pdu.status,
                           "message_id": mid.decode() if isinstance(mid, bytes) else mid})


def received(pdu):
    raw = pdu.short_message or b""
    try:
        ascii_text = raw.decode("ascii")
    except UnicodeDecodeError:
        ascii_text = None
    m = re.search(r"stat:(\w+)", ascii_text or "")
    out["receipts"].append({
        "data_coding": pdu.data_coding,
        "esm_class": pdu.esm_class,
        "ascii": ascii_text,
        "stat": m.group(1) if m else None,
    })


client.set_message_sent_handler(sent)
client.set_message_received_handler(received)
client.connect()
client.bind_transceiver(system_id=system_id, password=password)
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
        registered_delivery=True,
    )
deadline = time.time() + 10
while (len(out["submits"]) < len(parts) or not out["receipts"]) and time.time() < deadline:
    client.read_once()
out["data_coding_sent"] = encoding_flag
client.unbind()
client.disconnect()
print(json.dumps(out, ensure_ascii=False))
