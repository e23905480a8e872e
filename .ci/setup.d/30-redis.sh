#!/usr/bin/env bash
# redis-server for the idempotency tests (each test starts its own on a loopback port).
set -euo pipefail
. "$(dirname "$0")/../apt.sh"
apt_install redis-server
echo "ci: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') ready"
