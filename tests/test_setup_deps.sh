#!/bin/sh
# tools/setup-deps.sh against fake dpkg-query, id and apt-get on PATH: quiet
# when everything is installed, the one apt-get line for a user who is not
# root, the install itself as root, --ci, VFU_SKIP_DEPS, no dpkg at all.
set -u
script=${1:?usage: test_setup_deps.sh tools/setup-deps.sh}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vfu-setup-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

bin=$tmp/bin
mkdir -p "$bin"
# dpkg-query -W -f=FMT PKG...: "PKG installed" for those in FAKE_INSTALLED,
# "PKG not-installed" for FAKE_KNOWN, nothing for the rest (as dpkg does for
# a name it never heard of)
cat >"$bin/dpkg-query" <<'FAKE'
#!/bin/sh
shift 2
for p in "$@"; do
    case " $FAKE_INSTALLED " in *" $p "*) echo "$p installed"; continue ;; esac
    case " ${FAKE_KNOWN:-} " in *" $p "*) echo "$p not-installed" ;; esac
done
FAKE
cat >"$bin/id" <<'FAKE'
#!/bin/sh
echo "$FAKE_UID"
FAKE
cat >"$bin/apt-get" <<'FAKE'
#!/bin/sh
echo "apt-get $*" >>"$FAKE_LOG"
[ "$1" = install ] && exit "${FAKE_APT_RC:-0}"
exit 0
FAKE
chmod +x "$bin"/*

all="build-essential pkg-config libcmocka-dev libjson-c-dev libcbor-dev"
ci="$all clang lcov afl++ zip unzip man-db chromium"
log=$tmp/apt.log

# run NAME EXPECTED_RC [env assignments...] -- [script args]
run() {
    name=$1 want=$2
    shift 2
    : >"$log"
    env PATH="$bin:$PATH" FAKE_LOG="$log" FAKE_UID=1000 FAKE_INSTALLED="$all" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ "$rc" = "$want" ] || fail "$name: exit status $rc, expected $want ($(cat "$tmp/err"))"
}

run "all installed" 0 sh "$script"
[ -s "$tmp/out" ] || [ -s "$tmp/err" ] && fail "all installed: printed something"
[ -s "$log" ] && fail "all installed: apt-get ran"

run "all installed, --ci" 0 FAKE_INSTALLED="$ci" sh "$script" --ci
[ -s "$log" ] && fail "--ci all installed: apt-get ran"

run "user, one missing" 1 FAKE_INSTALLED="build-essential pkg-config libcmocka-dev libjson-c-dev" \
    FAKE_KNOWN=libcbor-dev sh "$script"
grep -qxF "run:  sudo apt-get install -y --no-install-recommends libcbor-dev" "$tmp/err" ||
    fail "user, one missing: no apt-get line: $(cat "$tmp/err")"
[ -s "$log" ] && fail "user, one missing: apt-get ran"

run "user, unknown to dpkg" 1 FAKE_INSTALLED="build-essential pkg-config" sh "$script"
grep -qxF "run:  sudo apt-get install -y --no-install-recommends libcmocka-dev libjson-c-dev libcbor-dev" "$tmp/err" ||
    fail "user, three missing: wrong line: $(cat "$tmp/err")"
[ "$(grep -c 'apt-get install' "$tmp/err")" = 1 ] || fail "user: more than one install line"

run "user, --ci" 1 sh "$script" --ci
grep -qxF "run:  sudo apt-get install -y --no-install-recommends clang lcov afl++ zip unzip man-db chromium" "$tmp/err" ||
    fail "user, --ci: wrong line: $(cat "$tmp/err")"

run "root, two missing" 0 FAKE_UID=0 FAKE_INSTALLED="build-essential pkg-config libcmocka-dev" sh "$script"
printf 'apt-get update -qq\napt-get install -y -qq --no-install-recommends libjson-c-dev libcbor-dev\n' >"$tmp/want"
cmp -s "$log" "$tmp/want" || fail "root: apt-get calls were: $(cat "$log")"

run "root, install fails" 100 FAKE_UID=0 FAKE_APT_RC=100 FAKE_INSTALLED="build-essential" sh "$script"

run "skipped" 0 VFU_SKIP_DEPS=1 FAKE_INSTALLED= sh "$script"
[ -s "$log" ] && fail "skipped: apt-get ran"

# no dpkg-query anywhere: a PATH of just what the script uses
nod=$tmp/nodpkg
mkdir -p "$nod"
for t in grep sed printf; do
    p=$(command -v "$t") && case $p in /*) ln -s "$p" "$nod/$t" ;; esac
done
cp "$bin/id" "$bin/apt-get" "$nod/"
: >"$log"
env PATH="$nod" FAKE_LOG="$log" FAKE_UID=0 FAKE_INSTALLED= "$(command -v sh)" "$script" >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "no dpkg-query: exit status $rc ($(cat "$tmp/out"))"
[ -s "$log" ] && fail "no dpkg-query: apt-get ran"

run "bad option" 2 sh "$script" --bogus

if [ "$fails" = 0 ]; then echo "test_setup_deps: all cases pass"; exit 0; fi
echo "test_setup_deps: $fails failed"
exit 1
