#!/bin/sh
# The generator's error messages, golden: each case of
# tests/specgen/errors.cases is one edit to tests/specgen/base.spec, and
# what specgen prints for it (file:line and text, the spec file named
# base.spec) must be the line of tests/specgen/errors.golden for that case.
# The base itself must generate, and twice over without touching its
# outputs (they are written only when their content changes).  And every
# message spec/specgen/*.c can die() with has a case: a format string no
# golden line matches fails, unless errors.cases has an "#untested" line
# for it saying why it cannot have one (the one list of exceptions).
#   specgen_errors.sh SPECGEN          check
#   specgen_errors.sh SPECGEN --update rewrite errors.golden (review the diff)
set -u
specgen=${1:?usage: specgen_errors.sh SPECGEN [--update]}
case $specgen in /*) ;; *) specgen=$PWD/$specgen ;; esac
dir=$(cd "$(dirname "$0")/specgen" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

cd "$tmp" || exit 2
cp "$dir/base.spec" base.spec
"$specgen" base.spec vfu_proto.h vfu_proto.c 2>err || { cat err; fail "the base spec does not generate"; }
touch -d '2000-01-01' vfu_proto.h vfu_proto.c
"$specgen" base.spec vfu_proto.h vfu_proto.c 2>err || fail "the base spec does not generate twice"
[ "$(date -d @"$(stat -c %Y vfu_proto.h)" +%Y)" = 2000 ] && [ "$(date -d @"$(stat -c %Y vfu_proto.c)" +%Y)" = 2000 ] ||
    fail "an unchanged output was rewritten"
cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$dir/../../include/vfu" -I"$dir/../../lib/core" -I. vfu_proto.c 2>cc.err || { cat cc.err; fail "the base's tables do not compile"; }

: >actual
grep -v '^#' "$dir/errors.cases" | grep -v '^$' | while IFS='	' read -r name expr; do
    perl -0pe "$expr" base.spec >case.spec
    if cmp -s base.spec case.spec; then echo "$name: the edit changed nothing"; continue; fi
    if "$specgen" case.spec ch.h cc.c 2>case.err; then
        echo "$name: accepted"
    else
        printf '%s: %s\n' "$name" "$(head -n 1 case.err | sed 's/^case\.spec:/base.spec:/')"
    fi
done >actual
if [ "${2:-}" = --update ]; then
    cp actual "$dir/errors.golden"
    echo "specgen_errors: errors.golden rewritten ($(wc -l <actual) cases)"
    exit 0
fi
diff -u "$dir/errors.golden" actual >diff.out || { cat diff.out; fail "messages differ from errors.golden"; }

# every die() format of the generator (all of spec/specgen/*.[ch]) against
# the golden messages: %s and %d stand for anything;
# "#untested<TAB>FORMAT<TAB>WHY" lines excuse one
cat "$dir"/../../spec/specgen/*.[ch] >specgen-sources.c
perl -e '
    my ($src, $cases, $golden) = @ARGV;
    local $/;
    open my $f, "<", $src or die "$src: $!\n";
    my $code = <$f>;
    my @formats;
    while ($code =~ /\bdie\(\s*[^,;()]+(?:\([^()]*\))?[^,;()]*,\s*"((?:[^"\\]|\\.)*)"/g) {
        (my $fmt = $1) =~ s/\\(.)/$1/g;
        push @formats, $fmt;
    }
    open $f, "<", $cases or die "$cases: $!\n";
    my %untested = map { /^#untested\t([^\t]+)\t(.+)$/ ? ($1 => $2) : () } split /\n/, <$f>;
    open $f, "<", $golden or die "$golden: $!\n";
    my @msgs = map { /^[^:]+: [^:]+:\d+: (.*)$/ ? $1 : () } split /\n/, <$f>;
    my ($bad, $covered, %seen) = (0, 0);
    for my $fmt (@formats) {
        next if $seen{$fmt}++;
        (my $re = quotemeta $fmt) =~ s/\\%(?:\\\.\\\*)?[sdu]/.*/g;
        my $hit = grep { /^$re$/ } @msgs;
        if (exists $untested{$fmt}) {
            if ($hit) { print "FAIL: die(\"$fmt\") has a case now: drop its #untested line\n"; $bad++ }
        } elsif ($hit) {
            $covered++;
        } else {
            print "FAIL: die(\"$fmt\") has no case in errors.cases (add one, or an #untested line saying why)\n";
            $bad++;
        }
    }
    for my $fmt (sort keys %untested) {
        next if $seen{$fmt};
        print "FAIL: #untested \"$fmt\" is not a message of spec/specgen\n";
        $bad++;
    }
    printf "specgen_errors: %d of %d generator messages have a case, %d untested (errors.cases says why)\n",
        $covered, scalar(keys %seen), scalar(keys %untested) - 0 if !$bad;
    exit($bad ? 1 : 0);
' specgen-sources.c "$dir/errors.cases" "$dir/errors.golden" || fail "generator messages without a golden case"
[ "$fails" -eq 0 ] && echo "specgen_errors: all $(wc -l <actual) cases as golden"
[ "$fails" -eq 0 ]
