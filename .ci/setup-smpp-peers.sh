#!/usr/bin/env bash
# Installs the SMPP peers the interoperability tests talk to: implementations we did not write.
#   - npm `smpp` (SMSC and client) into tests/interop/node_modules (gitignored);
#   - PyPI `smpplib` (client) with pip;
#   - Debian `kannel` (bearerbox + smsbox as an ESME) with apt.
# Idempotent and quick when both are already there; works on a fresh machine with node and
# python3 (it installs them from Debian when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
if [ "${#need_apt[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

dir=tests/interop
if [ -f "$dir/node_modules/smpp/package.json" ]; then
  echo "npm smpp: present ($(node -p "require('./$dir/node_modules/smpp/package.json').version"))"
else
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --no-save --silent smpp@0.5.1)
  echo "npm smpp: installed"
fi

if python3 -c 'import smpplib' >/dev/null 2>&1; then
  echo "smpplib: present"
else
  python3 -m pip install --quiet smpplib \
    || python3 -m pip install --quiet --break-system-packages smpplib
  echo "smpplib: installed"
fi

if command -v bearerbox >/dev/null 2>&1 && command -v smsbox >/dev/null 2>&1; then
  echo "kannel: present"
else
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq kannel >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq kannel; }
  echo "kannel: installed"
fi
