#!/usr/bin/env bash
# Run a command with biblio-ia's private Docker engine answering, as `make test` does.
#
#   scripts/with-docker.sh .venv/bin/pytest      # engine started if needed, stopped after
#
# The engine is started with scripts/dockerd.sh; when it cannot start, this fails loudly
# (exit 3, with dockerd's reason) instead of letting the docker test layer skip: `make test`
# is what CI runs, and CI must run every layer. An engine that already answered before is
# left running; one started here is stopped when the command ends, whatever its result.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
DOCKERD="$HERE/dockerd.sh"

if "$DOCKERD" status >/dev/null 2>&1; then
    started_here=0
else
    if ! "$DOCKERD" start; then
        echo "with-docker: the Docker engine could not start: the docker layer cannot run." >&2
        echo "with-docker: see scripts/dockerd.sh and docs/docker.md (root, cgroups, overlay)." >&2
        exit 3
    fi
    started_here=1
fi
eval "$("$DOCKERD" env)"

"$@"
status=$?

if [ "$started_here" = 1 ]; then
    "$DOCKERD" stop >/dev/null 2>&1 || echo "with-docker: the engine did not stop cleanly" >&2
fi
exit "$status"
