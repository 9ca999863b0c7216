#!/bin/sh
# make corpus: seeds for every fuzz target, and dictionaries, into OUT.
#   usage: make-corpus.sh BUILD OUT
# From the bundled scenarios: vfu-conform runs them all against the
# reference server keeping every scenario's CBOR trace, and vfu-corpus
# turns each trace into sessions (server and client side), single
# messages and VERSION pairs.  From the spec: one message per command.
# Scenario files seed the loader; small traces seed the trace reader.
set -eu
build=$1 out=$2
rm -rf "$out"
mkdir -p "$out/traces"
echo "corpus: recording a trace of every scenario"
"$build/vfu-conform" --server "$build/vfu-refserver" --trace-dir "$out/traces" --trace-all \
    --format tap --output "$out/conform.tap" || {
    echo "corpus: vfu-conform failed against the reference server (see $out/conform.tap)" >&2
    exit 1
}
# shellcheck disable=SC2046
"$build/vfu-corpus" traces "$out" "$out"/traces/*.cbor
"$build/vfu-corpus" spec "$out"
mkdir -p "$out/scn" "$out/trace"
cp harness/scenarios/*.scn "$out/scn/"
# the trace reader's seeds: traces up to 16 KiB, so runs stay fast
find "$out/traces" -name '*.cbor' -size -16k -exec cp {} "$out/trace/" \;
for t in decode server_session client caps scn trace; do
    "$build/vfu-corpus" dict "$t" >"$out/$t.dict"
done
for t in decode server_session client caps scn trace; do
    printf 'corpus: %-15s %5d seeds\n' "$t" "$(ls "$out/$t" | wc -l)"
done
