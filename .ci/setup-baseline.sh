#!/usr/bin/env bash
# Installs scikit-learn, the baseline of `consentry bench classify` and `consentry bench
# quality` (scripts/bench_classify_baseline.py, scripts/quality_baseline.py). Only the
# baselines are Python. Idempotent and quick when it is already there.
set -euo pipefail
command -v python3 >/dev/null 2>&1 || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip
}
if python3 -c 'import sklearn' >/dev/null 2>&1; then
  echo "scikit-learn: present ($(python3 -c 'import sklearn; print(sklearn.__version__)'))"
else
  python3 -m pip install -q scikit-learn
  echo "scikit-learn: installed"
fi
