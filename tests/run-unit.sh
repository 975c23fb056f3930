#!/bin/sh
# Runs the C unit-test binaries given as arguments and adds up their counts.
#
# Each binary prints its own line `test_xxx: N passed, N failed` (see
# tests/unit/unit.h). A binary that dies on a signal, is killed by its hang
# guard, exits non-zero with no failure counted (a sanitizer report at exit,
# say) or prints no summary line counts as one failure, shown by name.
#
# The last line is the total, exactly `N passed, N failed`; the exit status
# is 1 when anything failed.

passed=0
failed=0
broken=""
out=$(mktemp "${TMPDIR:-/tmp}/spawning-unit.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

if [ $# -eq 0 ]; then
    echo "run-unit.sh: no test binaries given" >&2
fi

for bin in "$@"; do
    name=$(basename "$bin")
    if [ ! -x "$bin" ]; then
        echo "$name: CRASHED (not found or not executable)"
        failed=$((failed + 1))
        broken="$broken $name"
        continue
    fi
    "$bin" >"$out" 2>&1
    rc=$?
    cat "$out"
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed\$" "$out" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$name: CRASHED (exit status $rc, no summary line)"
        failed=$((failed + 1))
        broken="$broken $name"
        continue
    fi
    p=$(echo "$line" | sed -E 's/^.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
    f=$(echo "$line" | sed -E 's/^.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$name: CRASHED (exit status $rc after reporting no failure)"
        failed=$((failed + 1))
        broken="$broken $name"
    elif [ "$f" -ne 0 ]; then
        broken="$broken $name"
    fi
done

if [ -n "$broken" ]; then
    echo "failing:$broken"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ $# -gt 0 ]
