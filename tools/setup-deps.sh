#!/bin/sh
# The Debian packages vfu-conform needs, in one place, and their set-up.
#
#   tools/setup-deps.sh        what `make`, `make check` and `make conform` need
#   tools/setup-deps.sh --ci   that, and what CI uses besides (clang, lcov, AFL++, chromium)
#
# Cheap when everything is there: one dpkg-query.  When something is
# missing: as root, apt-get installs it; otherwise we stop at once and name
# the one command to run.  Not a Debian system (no dpkg-query): nothing to
# check, the build says what it lacks.  VFU_SKIP_DEPS=1 skips the check
# (libraries installed some other way).  README's dependency table says
# what each package is for.
set -eu

# make, make check, make conform
BUILD_PKGS="build-essential pkg-config libcmocka-dev libjson-c-dev libcbor-dev"
# CI: the second compiler, coverage, AFL++, man (the install test), the browser that checks the HTML report
CI_PKGS="clang lcov afl++ zip unzip man-db chromium"

want=$BUILD_PKGS
case "${1:-}" in
"") ;;
--ci) want="$BUILD_PKGS $CI_PKGS" ;;
-h | --help)
    sed -n '2,13s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
*)
    echo "setup-deps: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
esac

[ "${VFU_SKIP_DEPS:-0}" = 1 ] && exit 0
command -v dpkg-query >/dev/null 2>&1 || exit 0

# one query for all; a package dpkg has never heard of prints nothing on
# stdout, so each line names its package
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $want 2>/dev/null || true)
missing=
for p in $want; do
    if ! printf '%s\n' "$installed" | grep -qxF "$p installed"; then
        missing="${missing:+$missing }$p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "vfu-conform needs Debian packages that are not installed: $missing" >&2
    echo "run:  sudo apt-get install -y --no-install-recommends $missing" >&2
    exit 1
fi
echo "setup-deps: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
