#!/usr/bin/env bash
# The container tests (tests/container/): podman builds and runs the images with runc;
# mmdebstrap makes their base image from Debian's packages (no registry is reachable).
# The tests write the podman configuration this kind of host needs themselves.
set -euo pipefail
. "$(dirname "$0")/../apt.sh"
apt_install podman runc mmdebstrap
echo "ci: podman $(podman --version | awk '{print $3}'), runc and mmdebstrap ready"
