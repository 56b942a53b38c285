#!/bin/sh
# make bench: run each benchmark; each prints its own table of ratios.
set -e
for b in "$@"; do
    "$b"
done
