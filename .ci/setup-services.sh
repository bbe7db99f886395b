#!/usr/bin/env bash
# PostgreSQL and NATS (JetStream), which the cluster and PostgreSQL tests need. This kind of
# machine starts both before a session; this script starts whichever has stopped (with the
# commands the machine documents) and fails, naming it, if one still does not answer, so that
# CI can never pass by skipping those tests. Also writes nothing: the tests make their own
# schemas and streams and drop them.
set -euo pipefail

answers() { timeout 3 bash -c "</dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pg_ok() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || answers 5432; }
if ! pg_ok; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  if ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
fi
if ! pg_ok; then
  echo "FAIL: PostgreSQL does not answer on 127.0.0.1:5432 (the PostgreSQL tests need it)" >&2
  exit 1
fi
echo "PostgreSQL: answering on 127.0.0.1:5432"

if ! answers 4222; then
  echo "NATS is not answering on 127.0.0.1:4222; starting it"
  if [ -x /usr/sbin/nats-server ]; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
      -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  fi
  for _ in $(seq 1 30); do answers 4222 && break; sleep 1; done
fi
if ! answers 4222; then
  echo "FAIL: NATS does not answer on 127.0.0.1:4222 (the cluster tests need it)" >&2
  exit 1
fi
echo "NATS: answering on 127.0.0.1:4222"
