#!/usr/bin/env python3
"""Drives consentry's CMPP acceptor with two independent PyPI clients and prints one JSON line.

usage: cmpp_peers.py PORT SP_ID SECRET DEST CHINESE_TEXT LONG_TEXT

- pycmpp (CMPP 2.0, version octet 0x21): connects, submits the Chinese text and the long text
  (pycmpp splits it behind a 05 00 03 UDH itself) asking for status reports; its own handlers
  are replaced only to record what came back, and a DELIVER handler (pycmpp has none) answers
  DELIVER_RESP in the 2.0 layout.
- cmppy (CMPP 3.0): its ConnectReq/SubmitReq build the requests and parse_response reads the
  responses; the script checks AuthenticatorISMG (cmppy leaves that as a TODO) and reads the
  3.0 status report, answering DELIVER_RESP.
"""
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time


def wait(pred, secs=10.0):
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def report_fields(content, tid_len):
    msg_id, = struct.unpack("!Q", content[0:8])
    stat = content[8:15].rstrip(b"\0").decode("ascii")
    dest = content[35:35 + tid_len].rstrip(b"\0").decode("ascii")
    return {"msg_id": msg_id, "stat": stat, "dest": dest}


def run_pycmpp(port, sp_id, secret, dest, chinese, long_text):
    from pycmpp.cmpp import Cmpp
    from pycmpp.response import ConnectResponseInstance, SubmitResponseInstance

    got = {"connect_status": None, "submit_resps": [], "reports": []}
    client = Cmpp("127.0.0.1", port, sp_id, secret, "", delivery=1, client_heartbeat=False)

    class OnConnectResp:
        def __init__(self, cmpp, message):
            self.message = message

        def __call__(self):
            r = ConnectResponseInstance()
            r.resolve(self.message)
            got["connect_status"] = r.status

    class OnSubmitResp:
        def __init__(self, cmpp, message):
            self.message = message

        def __call__(self):
            r = SubmitResponseInstance()
            r.resolve(self.message)
            got["submit_resps"].append({"msg_id": r.msg_id, "result": r.status})

    class OnDeliver:
        """CMPP 2.0 DELIVER: Msg_Id 8, Dest_Id 21, Service_Id 10, TP_pid, TP_udhi, Msg_Fmt,
        Src_terminal_Id 21, Registered_Delivery, Msg_Length, Msg_Content, Reserved 8."""

        def __init__(self, cmpp, message):
            self.cmpp = cmpp
            self.message = message

        def __call__(self):
            seq, = struct.unpack("!L", self.message[8:12])
            body = self.message[12:]
            msg_id = body[0:8]
            registered, length = body[63], body[64]
            content = body[65:65 + length]
            if registered == 1:
                got["reports"].append(report_fields(content, 21))
            resp = msg_id + struct.pack("!B", 0)
            self.cmpp.send(struct.pack("!LLL", 12 + len(resp), 0x80000005, seq) + resp)

    client.handlers[0x80000001] = OnConnectResp
    client.handlers[0x80000004] = OnSubmitResp
    client.handlers[0x00000005] = OnDeliver
    client.connect()
    client.auth()
    threading.Thread(target=client.receive, daemon=True).start()
    if not wait(lambda: got["connect_status"] is not None):
        return got
    if got["connect_status"] != 0:
        return got
    client.submit(chinese, [dest])
    client.submit(long_text, [dest])
    parts = 1 + (len(long_text) + 63) // 64
    wait(lambda: len(got["submit_resps"]) >= parts and len(got["reports"]) >= parts)
    # TERMINATE and close: reports go to any connection of the SP, so cmppy's must not land
    # on this one.
    client.disconnect()
    time.sleep(0.3)
    return got


def read_frame(so):
    head = b""
    while len(head) < 12:
        chunk = so.recv(12 - len(head))
        if not chunk:
            return None
        head += chunk
    length, command, seq = struct.unpack("!LLL", head)
    body = b""
    while len(body) < length - 12:
        chunk = so.recv(length - 12 - len(body))
        if not chunk:
            return None
        body += chunk
    return command, seq, head + body


def run_cmppy(port, sp_id, secret, dest, chinese):
    from cmppy.request import ConnectReq, SubmitReq, TerminateReq
    from cmppy.response import parse_response

    got = {"connect_status": None, "ismg_verified": False, "submit_resps": [], "reports": []}
    so = socket.create_connection(("127.0.0.1", port), timeout=10)
    connect = ConnectReq(sp_id, secret)
    so.sendall(connect.message)
    frame = read_frame(so)
    if frame is None:
        return got
    res = parse_response(frame[2])
    got["connect_status"] = res.status
    expected = hashlib.md5(res.raw_status + connect.authenticator_source + secret.encode()).digest()
    got["ismg_verified"] = expected == res.authenticator_ISMG
    if res.status != 0:
        return got
    submit = SubmitReq(sp_id, chinese, src_id="1065801234", dest_terminal_id=[dest],
                       registered_delivery=1, service_id="", feecode="000000")
    so.sendall(submit.message)
    while not (got["submit_resps"] and got["reports"]):
        frame = read_frame(so)
        if frame is None:
            break
        command, seq, raw = frame
        if command == 0x80000004:
            r = parse_response(raw)
            got["submit_resps"].append({"msg_id": r.msg_id, "result": r.result})
        elif command == 0x00000005:
            # CMPP 3.0 DELIVER: Msg_Id 8, Dest_Id 21, Service_Id 10, TP_pid, TP_udhi, Msg_Fmt,
            # Src_terminal_Id 32, Src_terminal_type, Registered_Delivery (75), Msg_Length (76).
            body = raw[12:]
            registered, length = body[75], body[76]
            if registered == 1:
                got["reports"].append(report_fields(body[77:77 + length], 32))
            resp = body[0:8] + struct.pack("!L", 0)
            so.sendall(struct.pack("!LLL", 12 + len(resp), 0x80000005, seq) + resp)
        elif command == 0x00000008:
            so.sendall(struct.pack("!LLLB", 13, 0x80000008, seq, 0))
    so.sendall(TerminateReq().message)
    frame = read_frame(so)
    got["terminated"] = frame is not None and frame[0] == 0x80000002
    so.close()
    return got


def main():
    port, sp_id, secret, dest, chinese, long_text = sys.argv[1:7]
    port = int(port)
    out = {
        "pycmpp": run_pycmpp(port, sp_id, secret, dest, chinese, long_text),
        "cmppy": run_cmppy(port, sp_id, secret, dest, chinese),
    }
    print(json.dumps(out, ensure_ascii=False), flush=True)
    # pycmpp's receive thread loops forever on a closed socket; leave without joining it.
    os._exit(0)


if __name__ == "__main__":
    main()
