#!/usr/bin/env bash
# Go builds the Knative oracle (tests/knative/oracle) and fetches the pinned upstream
# modules the suites read (Knative's CRDs and config maps, the CESQL TCK, the
# CloudEvents conformance events). Machines of this kind have Go; this checks it and
# pays for the first build here, with a progress line, before the tests start.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v go >/dev/null; then
    echo "ci: Go is missing: install Go 1.25 or newer (https://go.dev/dl/)" >&2
    exit 1
fi
echo "ci: $(go version), building the Knative oracle and fetching its modules"
python3 tests/knative/oracle_build.py
