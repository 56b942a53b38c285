#!/bin/sh
# Run each check suite given as an argument; exit 1 if any failed.
# VALGRIND=1 runs them under valgrind with CK_FORK=no; leaks are errors.
failed=""
for t in "$@"; do
    name=$(basename "$t")
    printf '== %s\n' "$name"
    if [ "${VALGRIND:-0}" = 1 ]; then
        CK_FORK=no valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=3 "$t" \
            || failed="$failed $name"
    else
        "$t" || failed="$failed $name"
    fi
done
if [ -n "$failed" ]; then
    echo "check: FAILED:$failed"
    exit 1
fi
echo "check: all $# suites passed"
