#!/usr/bin/env bash
# Installs schemathesis (PyPI), the property-based OpenAPI tester that
# crates/consentry/tests/openapi_conformance.rs runs against `consentry serve`: every
# operation of /openapi.json is called with generated requests and every answer is checked
# against the document (status codes, schemas, content types) and for 5xx.
# It goes into its own venv under ~/.cache (it pins many packages: kept apart from the
# system's python). Idempotent and quick when it is already there.
set -euo pipefail

venv="${HOME}/.cache/consentry/schemathesis"
version=4.32.5
if [ -x "$venv/bin/schemathesis" ] && "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  echo "schemathesis: present ($venv)"
  exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip
fi
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
echo "schemathesis: installed ($("$venv/bin/schemathesis" --version))"
