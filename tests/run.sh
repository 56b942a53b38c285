#!/bin/sh
# make run: the main job on a fresh embedded ledger.  Grows with the project.
set -e
: "${RECKON:?}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/reckon-run-XXXXXX")
echo "reckon: fresh ledger in $dir"
"$RECKON" version
