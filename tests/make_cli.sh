#!/bin/sh
# The build's promises a newcomer relies on: `make CC=clang` builds in its
# own tree, and `make check` ends its output with the tests' summary line
# (CI logs are read from the tail).  Usage: make_cli.sh SOURCE_TREE
set -u
ROOT=${1:?usage: make_cli.sh source-tree}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# what make would do, not doing it (MAKEFLAGS of an enclosing make dropped)
dry() { env -i PATH="$PATH" HOME="${HOME:-/}" make -s -n -C "$ROOT" "$@" 2>&1; }

# --- each compiler its own tree
dry -B CC=clang all >"$tmp/clang"
grep -q -- "-o build/clang/" "$tmp/clang" || fail "make CC=clang does not build in build/clang"
grep -Eq -- "-o build/(obj|lib|vfu)" "$tmp/clang" && fail "make CC=clang writes into gcc's build/"
dry -B CC=gcc all >"$tmp/gcc"
grep -q -- "-o build/obj/" "$tmp/gcc" || fail "make CC=gcc does not build in build/"
grep -q -- "build/clang" "$tmp/gcc" && fail "make CC=gcc writes into build/clang"
dry -B CC=clang BUILD=build/other all >"$tmp/other"
grep -q -- "-o build/other/" "$tmp/other" || fail "an explicit BUILD= is not honoured"

# --- make check runs the tests last
dry check >"$tmp/check"
tail -n 1 "$tmp/check" | grep -q "tests/run-tests.sh" || fail "the last thing make check does is not the tests: $(tail -n 1 "$tmp/check")"

# --- and the tests' summary is one line, last
printf '#!/bin/sh\nexit 0\n' >"$tmp/good" && printf '#!/bin/sh\necho noise\nexit 1\n' >"$tmp/bad"
chmod +x "$tmp/good" "$tmp/bad"
"$ROOT/tests/run-tests.sh" "$tmp/good" "$tmp/bad" "$tmp/good" >"$tmp/sum" 2>&1
[ $? -eq 1 ] || fail "run-tests.sh with a failing test did not exit 1"
[ "$(tail -n 1 "$tmp/sum")" = "make check: 2 passed, 1 failed" ] || fail "summary line: '$(tail -n 1 "$tmp/sum")'"
grep -q "failed programs: bad" "$tmp/sum" || fail "the failing program is not named"
"$ROOT/tests/run-tests.sh" "$tmp/good" >"$tmp/sum" 2>&1 || fail "run-tests.sh with passing tests failed"
[ "$(tail -n 1 "$tmp/sum")" = "make check: 1 passed, 0 failed" ] || fail "summary line: '$(tail -n 1 "$tmp/sum")'"

[ "$fails" -eq 0 ] && echo "make_cli: all checks passed"
[ "$fails" -eq 0 ]
