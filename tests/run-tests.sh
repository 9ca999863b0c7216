#!/bin/sh
# Runs each test program given and closes with one line,
# "make check: N passed, N failed", the last of make check's output.
passed=0 failed=0 names=
for t in "$@"; do
    if "$t"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); names="$names ${t##*/}"
    fi
done
[ -n "$names" ] && echo "failed programs:$names"
echo "make check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
