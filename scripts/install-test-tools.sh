#!/usr/bin/env bash
# Installs the optional tools some tests use when they are present, and says what it did.
#
# - tshark: crates/bwe-e2e/tests/capture.rs decodes the simulator's pcap files with it; without
#   it the test checks the files' bytes itself and says it skipped the tshark part.
#
# Idempotent: a tool already on PATH is left alone. Never fails: without root or sudo, or when
# apt is unavailable (no network, not Debian-like), it prints a warning and exits 0, so CI goes
# on without the tool.
set -uo pipefail

warn() { echo "install-test-tools: warning: $*" >&2; }

if command -v tshark >/dev/null 2>&1; then
    echo "install-test-tools: tshark already installed ($(command -v tshark))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    warn "tshark is missing and apt-get is not available; the tshark checks will be skipped"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    warn "tshark is missing and neither root nor passwordless sudo is available; the tshark checks will be skipped"
    exit 0
fi

echo "install-test-tools: installing tshark with apt-get"
if "${as_root[@]}" apt-get update -q \
    && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends tshark; then
    echo "install-test-tools: installed $(tshark --version 2>/dev/null | head -n 1)"
else
    warn "apt-get could not install tshark (no network?); the tshark checks will be skipped"
fi
exit 0
