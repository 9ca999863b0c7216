#!/bin/sh
# vfu-spec run on crafted messages: exit status and the lines that carry
# the verdict.  Usage: vfu_spec_cli.sh path/to/vfu-spec
set -u
CLI=${1:?usage: vfu_spec_cli.sh path/to/vfu-spec}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 name=

fail() { echo "FAIL $name: $*"; fails=$((fails + 1)); }

# run NAME RC ARGS...: runs the CLI, keeps stdout/stderr, checks the status
run() {
    name=$1 want=$2
    shift 2
    "$CLI" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc, want $want"
}
# the same with stdin from a file
run_in() {
    name=$1 want=$2 in=$3
    shift 3
    "$CLI" "$@" <"$in" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "exit $rc, want $want"
}
has() { grep -qF -- "$1" "$tmp/out" || fail "no line with '$1'"; }
hasnt() { ! grep -qF -- "$1" "$tmp/out" || fail "unexpected '$1'"; }
err_has() { grep -qF -- "$1" "$tmp/err" || fail "stderr lacks '$1'"; }
last_is() { [ "$(tail -n 1 "$tmp/out")" = "$1" ] || fail "last line '$(tail -n 1 "$tmp/out")', want '$1'"; }

# hex text to bytes, with nothing but POSIX printf
hex2bin() {
    for b in $(printf '%s' "$1" | tr -d ' \n' | sed 's/../& /g'); do
        printf "\\$(printf %03o "0x$b")"
    done
}

# DMA_MAP request, id 7: READ|WRITE, address 0x10000, size 0x2000
HDR="0700 0200 30000000 00000000 00000000"
MAP="$HDR 20000000 03000000 0000000000000000 0000010000000000 0020000000000000"
BADMAP="$HDR 20000000 07000000 0000000000000000 0000010000000000 0020000000000000"
# DEVICE_RESET request, id 9: a header alone
RESET="0900 0d00 10000000 00000000 00000000"

run valid-dma-map 0 decode 0x07000200 $(echo "$MAP" | cut -d' ' -f3-)
has "DMA_MAP request, id 7, 48 bytes"
has "dma_map @16 (32 bytes)"
grep -q '^ *@20 .*flags .*0x00000003 (3) READ|WRITE$' "$tmp/out" || fail "flags line"
grep -q '^ *@32 .*address .*0x0000000000010000 (65536)$' "$tmp/out" || fail "address line"
has "valid"
hasnt "violation:"
last_is "1 message, 0 with violations"

run reserved-flags 1 decode $BADMAP
grep -q 'flags .*READ|WRITE|reserved=0x4  <-- RESERVED_FLAGS' "$tmp/out" || fail "flags not marked"
has "violation: DMA_MAP request: flags: reserved flag bits set [RESERVED_FLAGS]"
has "(spec: VFIO_USER_DMA_MAP)"
last_is "1 message, 1 with violations"

# --docs: each field's line ends with its doc, the verdict's does not
run docs 0 decode --docs $MAP
grep -q '^ *@32 .*address .*0x0000000000010000 (65536)  -- [^ ]' "$tmp/out" || fail "address line without its doc"
grep -q '^ *@12 .*error .* -- [^ ]' "$tmp/out" || fail "header field without its doc"
[ "$(grep -c ' -- ' "$tmp/out")" -eq 10 ] || fail "want a doc on each of the 10 field lines"
has "valid"

run brief 0 decode --brief $MAP
has "1 @0: DMA_MAP request id=7 argsz=32 flags=READ|WRITE offset=0 address=0x10000 size=0x2000"

run brief-invalid 1 decode --brief $BADMAP
has "1 @0: DMA_MAP request id=7 invalid: RESERVED_FLAGS flags"

# the first 40 of 48 bytes
run truncated 1 decode "$(echo "$MAP" | tr -d ' ' | cut -c1-80)"
has "trailing partial message: 40 of msg_size 48 bytes"
has "[SIZE_MISMATCH]"

run short-header 1 decode 07000200
has "trailing partial message: 4 bytes, less than a header"
has "[HDR_SHORT]"

run garbage-bytes 1 decode deadbeefdeadbeefdeadbeefdeadbeef0102
has "<-- SIZE_LIMIT"
has "framing lost at @0"

run not-hex 2 decode 0700 zz 0200
err_has "'zz': not hex"
run odd-hex 2 decode 0x123
err_has "odd number of hex digits"
run empty-hex 2 decode " "

# a binary file of three messages and a partial fourth
{ hex2bin "$MAP"; hex2bin "$RESET"; hex2bin "$BADMAP"; hex2bin "0100 0100 4000"; } >"$tmp/trace.bin"
run file 1 decode --brief -f "$tmp/trace.bin"
has "1 @0: DMA_MAP request id=7"
has "2 @48: DEVICE_RESET request id=9"
has "3 @64: DMA_MAP request id=7 invalid: RESERVED_FLAGS flags"
has "trailing partial message: 6 bytes, less than a header"
has "4 @112: short message (6 bytes) invalid: HDR_SHORT"
last_is "4 messages, 2 with violations"

{ hex2bin "$MAP"; hex2bin "$RESET"; } >"$tmp/ok.bin"
run file-valid 0 decode -f "$tmp/ok.bin"
last_is "2 messages, 0 with violations"
run_in stdin-binary 0 "$tmp/ok.bin" decode --brief -
has "2 @48: DEVICE_RESET request id=9"
printf '%s\n%s\n' "$MAP" "0x$(echo "$RESET" | tr -d ' ')" >"$tmp/hex.txt"
run_in stdin-hex 0 "$tmp/hex.txt" decode --brief -
has "2 @48: DEVICE_RESET request id=9"
run missing-file 2 decode -f "$tmp/none.bin"
err_has "none.bin"

run fds-allowed 0 decode --fds 1 $MAP
has "48 bytes, 1 fds"
run fds-too-many 1 decode --fds 2 $MAP
has "[FDS]"
run role-server 0 decode --role server $MAP
run role-client 1 decode --role client $MAP
has "[DIRECTION]"

run no-args 2
err_has "usage:"
run no-input 2 decode
err_has "decode needs hex"
run bad-option 2 decode --bogus $MAP
err_has "unknown option '--bogus'"
run bad-role 2 decode --role peer $MAP
err_has "--role wants server, client or any"
run missing-value 2 decode $MAP --fds
err_has "needs a value"
run help 0 --help
has "usage: vfu-spec list [CMD]"

run list 0 list
has "2 DMA_MAP  client->server  (spec: VFIO_USER_DMA_MAP)"
has "11 DMA_READ  server->client  (spec: VFIO_USER_DMA_READ)"
has "xfer: count must not exceed max_data_xfer_size (default 1048576)"
has "fds: count or 0 when flags has DATA_EVENTFD, else none"
has "when FEATURE=MIG_DEVICE_STATE SET (flags & 0x2ffff == 0x20002) -> feature_mig_state (8 bytes)"
run list-one 0 list dma_map
# each field's line ends with its doc line from the spec, " -- TEXT"
grep -q '^ *+16 *8 *u64 *address \[address in dma, length size\]  -- [^ ].*$' "$tmp/out" || fail "address layout, meaning and doc"
grep -q '^ *+24 .* size .* -- ' "$tmp/out" || fail "size doc"
n_fields=$(grep -c '^ *+[0-9]' "$tmp/out")
[ "$(grep -c '^ *+[0-9].* -- [^ ]' "$tmp/out")" -eq "$n_fields" ] || fail "a field line without its doc"
has "argsz: the size of this payload"
grep -q '^    fds: 0 or 1$' "$tmp/out" || fail "request fds rule"
grep -q '^    fds: none$' "$tmp/out" || fail "reply fds rule"
has "reply (server->client): none, header only"
hasnt "DMA_UNMAP"
cp "$tmp/out" "$tmp/one"
run list-prefixed 0 list VFIO_USER_DMA_MAP
cmp -s "$tmp/out" "$tmp/one" || fail "differs from 'list dma_map'"
run list-number 0 list 2
cmp -s "$tmp/out" "$tmp/one" || fail "differs from 'list dma_map'"
# field meanings from the spec file: stated, implied by a tail, by xfer
run list-meanings 0 list region_write
has "offset [offset in region(region), length count]"
has "region [index in regions]"
has "count [count in region(region), of data, bounded by max_data_xfer_size]"
run list-bound 0 list device_feature
has "length [length, bounded by migration.max_bitmap_size]"
has "length [length, of bitmap]"
run list-implied 0 list device_get_region_info
has "nr_areas [count, of areas]"
has "size [length in region(index)]"
run list-unknown 2 list NO_SUCH
err_has "unknown command 'NO_SUCH'"

run structs 0 structs
has "dma_map: 32 bytes"
has "dma_write_ack: 16 bytes, 12 without optional fields"
has "sub_region: 24 bytes, then form, 40 bytes as an array element"

# --- --version
run version 0 --version
grep -Eq '^vfu-spec [0-9]' "$tmp/out" || fail "--version: '$(cat "$tmp/out")'"

# --- VERSION data held to the capability rules, as a server reads it
# ver JSON [reply]: a VERSION message 0.1 carrying JSON and its NUL, as hex
ver() {
    j=$(printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n')
    len=$(( ${#1} + 1 + 4 + 16 ))
    printf '0100 0100 %02x%02x0000 %02x000000 00000000 00000100 %s00\n' $((len & 255)) $((len >> 8)) "${2:-0}" "$j"
}
run caps-ok 0 decode $(ver '{"capabilities":{"max_msg_fds":4}}')
has "valid"
run caps-negative 1 decode $(ver '{"capabilities":{"max_msg_fds":-1}}')
has "violation: VERSION request: data: max_msg_fds"
run caps-type 1 decode $(ver '{"capabilities":{"pgsizes":"4k"}}')
has "pgsizes"
run caps-json 1 decode $(ver '{"capabilities":')
has "capability JSON malformed"
# fd_index is the server's to state: wrong in a proposal, right in a reply
run caps-fd-index-request 1 decode $(ver '{"capabilities":{"twin_socket":{"supported":true,"fd_index":0}}}')
has "twin_socket.fd_index"
run caps-fd-index-reply 0 decode --fds 1 $(ver '{"capabilities":{"twin_socket":{"supported":true,"fd_index":0}}}' 1)
has "valid"

[ "$fails" -eq 0 ] && echo "vfu-spec CLI: all checks passed"
[ "$fails" -eq 0 ]
