#!/usr/bin/env bash
# Make the local base image for the demonstrator image when no container registry is reachable.
#
#   images/base/build.sh [--force]
#
# It builds a minimal Debian 12 (bookworm) root file system with debootstrap, with Python 3,
# venv and the CA certificates, and imports it with `docker import` as $BIBLIO_BASE_IMAGE
# (default `biblio-ia/base:bookworm`). Where a registry is reachable, skip this and build the
# demonstrator image from a public base instead, e.g. `--build-arg BASE_IMAGE=python:3.11-slim-bookworm`.
#
# Idempotent: does nothing when the image already exists (unless --force).
# Needs root, debootstrap (`apt-get install -y debootstrap`) and a Docker engine (DOCKER_HOST).
#
# Environment:
#   BIBLIO_BASE_IMAGE     image name (default biblio-ia/base:bookworm)
#   BIBLIO_DEBIAN_MIRROR  Debian mirror (default http://deb.debian.org/debian)
set -euo pipefail

IMAGE="${BIBLIO_BASE_IMAGE:-biblio-ia/base:bookworm}"
MIRROR="${BIBLIO_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "${1:-}" != "--force" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "base image $IMAGE already present"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install -y debootstrap" >&2; exit 2; }

ROOTFS="$(mktemp -d /tmp/biblio-base-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOTFS" "$MIRROR"

# Keep the image small and deterministic: no apt lists or caches, no man pages.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/doc/*

tar --numeric-owner -C "$ROOTFS" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    --message "biblio-ia base: debootstrap --variant=minbase bookworm" \
    - "$IMAGE"
echo "base image $IMAGE imported"
