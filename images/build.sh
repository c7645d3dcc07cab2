#!/usr/bin/env bash
# Build biblio-ia's container images with one command.
#
#   images/build.sh                 # base (only if missing) + single-user image
#   images/build.sh singleuser      # the demonstrator image only
#   images/build.sh hub             # the hub image for Zero to JupyterHub
#   images/build.sh all             # base + singleuser + hub
#
# The single-user image is built FROM $BIBLIO_BASE_IMAGE: by default the local Debian base
# made by images/base/build.sh (no registry needed); where a registry is reachable, use a
# public one, e.g. BIBLIO_BASE_IMAGE=python:3.11-slim-bookworm images/build.sh singleuser.
#
# The build context is a tar stream assembled here from an explicit list of project files
# (never the state/ folder nor the venv), plus two generated files under .build/:
#   .build/requirements.txt   the project's dependencies, read from pyproject.toml
#   .build/constraints.txt    the versions installed in the hub's venv (`pip freeze`), so the
#                             image runs exactly the JupyterHub, JupyterLab, scikit-learn ...
#                             versions the hub and the tests use
#   .build/ca-certificates.crt the host's CA bundle, used by pip during the build only (needed
#                             behind a TLS-intercepting egress proxy; harmless elsewhere)
# Dependencies are installed in a layer before the project files are copied, so a rebuild
# after a change to notebooks, data or code takes seconds.
#
# Environment:
#   DOCKER_HOST            engine to use (scripts/dockerd.sh env prints ours)
#   BIBLIO_IMAGE           single-user image tag (default biblio-ia-singleuser:latest)
#   BIBLIO_HUB_IMAGE       hub image tag (default biblio-ia-hub:latest)
#   BIBLIO_BASE_IMAGE      base of the single-user image (default biblio-ia/base:bookworm)
#   BIBLIO_HUB_BASE_IMAGE  base of the hub image (default quay.io/jupyterhub/k8s-hub:4.4.0)
#   BIBLIO_VENV            venv whose versions are pinned (default <repo>/.venv)
#   BIBLIO_BUILD_CA        CA bundle given to pip (default /etc/ssl/certs/ca-certificates.crt)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
IMAGE="${BIBLIO_IMAGE:-biblio-ia-singleuser:latest}"
HUB_IMAGE="${BIBLIO_HUB_IMAGE:-biblio-ia-hub:latest}"
BASE_IMAGE="${BIBLIO_BASE_IMAGE:-biblio-ia/base:bookworm}"
HUB_BASE_IMAGE="${BIBLIO_HUB_BASE_IMAGE:-quay.io/jupyterhub/k8s-hub:4.4.0}"
VENV="${BIBLIO_VENV:-$REPO/.venv}"
CA="${BIBLIO_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY=python3

# Project files that go into the images (an allow-list: nothing else is sent to the engine).
PROJECT_FILES=(pyproject.toml README.md models hub notebooks datasets)

prepare_generated() {
    local out="$1"
    mkdir -p "$out"
    "$PY" - "$REPO/pyproject.toml" >"$out/requirements.txt" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
EOF
    # Pins of the tested venv for the direct dependencies and the Jupyter server stack (the
    # base's Python may be older than the venv's, so transitive pins are left to pip).
    "$PY" - "$out/requirements.txt" >"$out/constraints.txt" <<'EOF'
import re, sys
from importlib.metadata import PackageNotFoundError, version
names = [re.split(r"[\s\[<>=!~;]", line.strip(), maxsplit=1)[0]
         for line in open(sys.argv[1]) if line.strip()]
for name in sorted(set(names) | {"jupyter_server", "ipykernel", "tornado", "jupyterlab_server"}):
    try:
        print(f"{name}=={version(name)}")
    except PackageNotFoundError:
        pass
EOF
    cp "$CA" "$out/ca-certificates.crt"
    "$PY" -c 'import jupyterhub; print(jupyterhub.__version__)' >"$out/jupyterhub-version"
}

# Stream a build context (tar on stdout): project files + images/ + generated .build/.
context() {
    local gen="$1"
    tar -c --owner=0 --group=0 --numeric-owner --sort=name --mtime='2000-01-01 00:00Z' \
        --exclude='__pycache__' --exclude='*.pyc' --exclude='.ipynb_checkpoints' \
        --exclude='*.egg-info' \
        -C "$REPO" "${PROJECT_FILES[@]}" images/singleuser images/hub \
        -C "$gen/.." .build
}

build_singleuser() {
    images_base
    local gen jh
    gen="$(mktemp -d /tmp/biblio-build.XXXXXX)/.build"
    prepare_generated "$gen"
    jh="$(cat "$gen/jupyterhub-version")"
    echo "building $IMAGE FROM $BASE_IMAGE (JupyterHub $jh)"
    context "$gen" | docker build --network host \
        --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "JUPYTERHUB_VERSION=$jh" \
        -f images/singleuser/Dockerfile -t "$IMAGE" -
    rm -rf "$(dirname "$gen")"
    prune
}

# Earlier builds of our images left untagged by a rebuild (never anything else).
prune() {
    docker image prune -f --filter label=org.biblio-ia.image >/dev/null || true
}

build_hub() {
    local gen jh
    gen="$(mktemp -d /tmp/biblio-build.XXXXXX)/.build"
    prepare_generated "$gen"
    jh="$(cat "$gen/jupyterhub-version")"
    echo "building $HUB_IMAGE FROM $HUB_BASE_IMAGE (JupyterHub $jh)"
    context "$gen" | docker build --network host \
        --build-arg "BASE_IMAGE=$HUB_BASE_IMAGE" --build-arg "JUPYTERHUB_VERSION=$jh" \
        -f images/hub/Dockerfile -t "$HUB_IMAGE" -
    rm -rf "$(dirname "$gen")"
    prune
}

images_base() {
    if [ "$BASE_IMAGE" = "biblio-ia/base:bookworm" ]; then
        BIBLIO_BASE_IMAGE="$BASE_IMAGE" "$REPO/images/base/build.sh"
    fi
}

cd "$REPO"
case "${1:-singleuser}" in
    base) images_base ;;
    singleuser) build_singleuser ;;
    hub) build_hub ;;
    all) build_singleuser && build_hub ;;
    *)
        echo "usage: $0 [base|singleuser|hub|all]" >&2
        exit 2
        ;;
esac
