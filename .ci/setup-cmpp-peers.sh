#!/usr/bin/env bash
# Installs the CMPP peers the interoperability tests talk to: client implementations we did
# not write, from PyPI (there is no independent CMPP gateway on the registries).
#   - `pycmpp` (CMPP 2.0 client; announces version 0x21, splits long text behind a UDH);
#   - `cmppy`  (CMPP 3.0 request/response classes).
# Idempotent and quick when both are already there; installs python3 and pip from Debian
# when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip
fi

for pkg in pycmpp cmppy; do
  if python3 -c "import $pkg" >/dev/null 2>&1; then
    echo "$pkg: present"
  else
    python3 -m pip install --quiet "$pkg" \
      || python3 -m pip install --quiet --break-system-packages "$pkg"
    echo "$pkg: installed"
  fi
done
