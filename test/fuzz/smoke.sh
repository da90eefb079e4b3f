#!/bin/sh
# smoke.sh FUZZER SEEDS WORKDIR SECONDS
# The smoke run of one fuzzer (ctest's fuzz.<name>): SECONDS of fuzzing over a copy of the
# seed corpus SEEDS made in WORKDIR (the repository is never written), with the fuzzer's
# dictionary if it has one. Any crash, leak, timeout or UBSan report fails the run; its
# input is kept in WORKDIR/artifacts/ and named in the output.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4

if [ ! -x "$fuzzer" ]; then
        echo "smoke: $fuzzer is missing: build the fuzz tree (cmake -DPP_FUZZ=ON)" >&2
        exit 1
fi
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"

name=$(basename "$fuzzer")
dict=$(dirname "$seeds")/../$name.dict
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/"
[ -f "$dict" ] && set -- "$@" -dict="$dict"

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$fuzzer" "$@" "$work/corpus"
