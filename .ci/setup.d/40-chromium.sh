#!/usr/bin/env bash
# The dev console's browser tests drive Debian's Chromium with Playwright (the Python
# package comes with the dev extra; Playwright's own browser download is never used).
set -euo pipefail
. "$(dirname "$0")/../apt.sh"
apt_install chromium fonts-dejavu-core
echo "ci: chromium $(dpkg-query -W -f='${Version}' chromium) for the console's browser tests"
