#!/usr/bin/env bash
# Installs what the console's browser tests (crates/consentry/tests/console_browser.rs) drive:
#   - Debian's `chromium`, run headless (no browser build is downloaded: playwright-core ships none);
#   - npm `playwright-core` into tests/browser/node_modules (gitignored).
# Idempotent and quick when both are already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# CJK glyphs, so the Chinese pages' screenshots show text rather than boxes.
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need_apt+=(fonts-noto-cjk)
if [ "${#need_apt[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"; }
  echo "apt: installed ${need_apt[*]}"
else
  echo "chromium: present ($(chromium --version 2>/dev/null | head -1))"
fi

dir=tests/browser
if [ -f "$dir/node_modules/playwright-core/package.json" ]; then
  echo "npm playwright-core: present ($(node -p "require('./$dir/node_modules/playwright-core/package.json').version"))"
else
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --no-save --silent playwright-core@1.49.1)
  echo "npm playwright-core: installed"
fi
