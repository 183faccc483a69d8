#!/usr/bin/env python3
"""broken_server.py -- a V1.16 server test double that breaks one rule on
purpose, for proving that `camsim run` catches each kind of broken server
(tests/check_run.c).  Standard library only; not camsim's own code, so the
harness is checked against a server that shares nothing with its mock.

Behaves as a plain correct server -- 200 to every message, commands queued
through /admin/queue delivered one per heartbeat reply, each with a fresh
seq, Expect: 100-continue answered -- except for the one fault of --mode:

  good                 no fault (the control case)
  status-500           every heartbeat is answered 500
  invalid-json         every heartbeat reply body is cut-off JSON
  person-ids-over-20   a queued delete is sent with 21 person ids
  strategies-over-16   a queued strategy delivery is sent with 17 strategies
  no-100               Expect: 100-continue is never answered
  slow                 replies come 1.5 s late (device timeout set to 1 s)
  seq-reused           every command gets seq 7
  100-then-close       Expect: 100-continue is answered, then the connection
                       closes with no final answer (a reply that never
                       arrives: reply-time, not reply-status)
  loop                 a command, once sent, rides along in the reply to every
                       later message, confirmations included: the request loop
                       of a server that never marks a command done

Usage: broken_server.py --mode MODE --port-file FILE
Listens on 127.0.0.1 (a free port, written to FILE once listening) until
killed.  POST /admin/queue with a JSON object of reply members queues it.
"""

import argparse
import http.server
import json
import os
import threading
import time

MODES = ("good", "loop", "100-then-close", "status-500", "invalid-json", "person-ids-over-20",
         "strategies-over-16", "no-100", "slow", "seq-reused",
         "control-chars")

SEQ_MEMBERS = ("facelib_manage", "reupload", "config", "facelog", "control")


class State:
    def __init__(self, mode):
        self.mode = mode
        self.lock = threading.Lock()
        self.queue = []
        self.next_seq = 1
        self.sticky = {}

    def next_reply(self):
        with self.lock:
            if not self.queue:
                return {}
            reply = self.queue.pop(0)
            for m in SEQ_MEMBERS:
                if isinstance(reply.get(m), dict) and "seq" not in reply[m]:
                    reply[m]["seq"] = 7 if self.mode == "seq-reused" \
                        else self.next_seq
                    self.next_seq += 1
            return self.break_reply(reply)

    def break_reply(self, reply):
        fm = reply.get("facelib_manage")
        if self.mode == "person-ids-over-20" and isinstance(fm, dict) \
                and fm.get("type") == 3:
            fm["person_ids"] = ",".join("p%02d" % i for i in range(21))
        sm = reply.get("strategy_manage")
        if self.mode == "strategies-over-16" and isinstance(sm, dict) \
                and "strategyList" in sm:
            base = sm["strategyList"][0]
            sm["strategyList"] = [dict(base, strategyId=i + 1)
                                  for i in range(17)]
        return reply


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def handle_expect_100(self):
            if state.mode == "no-100":
                return True  # say nothing; the client waits, then sends
            ok = super().handle_expect_100()
            if state.mode == "100-then-close":
                self.close_connection = True
                return False  # 100 sent; no final answer follows
            return ok

        def answer(self, status, body):
            data = body if isinstance(body, bytes) else body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass  # the device gave up (timeout) or shut down

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            if self.path == "/admin/queue":
                with state.lock:
                    state.queue.append(json.loads(raw))
                self.answer(200, "{}")
                return
            try:
                msg = json.loads(raw)
            except ValueError:
                self.answer(400, '{"error":"not JSON"}')
                return
            heartbeat = msg.get("type") == 3
            if state.mode == "slow":
                time.sleep(1.5)
            if heartbeat and state.mode == "status-500":
                self.answer(500, '{"error":"internal"}')
                return
            if heartbeat and state.mode == "control-chars":
                # a value that would clear the reader's terminal and ring
                # its bell if camsim printed it as it is
                self.answer(200, '{"time_interval": "\\u001b[2J\\u0007"}')
                return
            if heartbeat and state.mode == "invalid-json":
                self.answer(200, '{"time_interval": 3')
                return
            reply = state.next_reply() if heartbeat else {}
            if state.mode == "loop":
                with state.lock:
                    state.sticky.update(reply)
                    reply = dict(state.sticky)
            self.answer(200, json.dumps(reply))

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--port-file", required=True)
    a = ap.parse_args()
    state = State(a.mode)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          make_handler(state))
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
