#!/usr/bin/env bash
# Installs headless Chromium and ChromeDriver from Debian's packages, for
# `cargo xtask interop chromium` (a real browser on the other end of a call).
#
# Idempotent: when /usr/bin/chromium and /usr/bin/chromedriver exist it says so and does
# nothing. Unlike scripts/install-test-tools.sh it fails (exit 1) when it cannot install: it is
# run on purpose, by someone who wants the browser.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    echo "install-chromium: already installed: $(chromium --version 2>/dev/null | head -n 1); $(chromedriver --version 2>/dev/null | head -n 1)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: apt-get is not available; install Chromium and ChromeDriver by hand" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-chromium: needs root or sudo to run apt-get" >&2
    exit 1
fi

echo "install-chromium: installing chromium and chromium-driver with apt-get (about 160 MB)"
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends chromium chromium-driver
echo "install-chromium: installed $(chromium --version 2>/dev/null | head -n 1); $(chromedriver --version 2>/dev/null | head -n 1)"
