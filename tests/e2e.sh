#!/bin/sh
# Run each end-to-end script given as an argument with $RECKON set to the
# command under test and $TMPDIR to a fresh directory; exit 1 if any failed.
failed=""
for s in "$@"; do
    name=$(basename "$s" .sh)
    printf '== e2e %s\n' "$name"
    dir=$(mktemp -d "${TMPDIR:-/tmp}/reckon-e2e-XXXXXX") || exit 2
    if TMPDIR="$dir" sh "$s" >"$dir.log" 2>&1; then
        echo "ok"
        rm -rf "$dir" "$dir.log"
    else
        cat "$dir.log"
        echo "FAILED (log $dir.log, files $dir)"
        failed="$failed $name"
    fi
done
if [ -n "$failed" ]; then
    echo "e2e: FAILED:$failed"
    exit 1
fi
echo "e2e: all $# scripts passed"
