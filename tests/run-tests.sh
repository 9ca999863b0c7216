#!/bin/sh
# Runs each test program given and closes with one "N passed, N failed" line.
passed=0 failed=0 names=
for t in "$@"; do
    if "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); names="$names ${t##*/}"
    fi
done
[ -n "$names" ] && echo "failed programs:$names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
