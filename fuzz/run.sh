#!/usr/bin/env bash
# Runs one target under afl-fuzz for a while: fuzz/run.sh TARGET [SECONDS] (default 600).
# Inputs: fuzz/corpus/TARGET and fuzz/seeds/TARGET; findings go to FINDINGS (default /dev/shm/ztgw-fuzz/findings/TARGET).
# Build first with fuzz/build.sh. Runs under nice: the fuzzer takes one core for the whole time.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/run.sh TARGET [SECONDS]}
seconds=${2:-600}
base=/tmp
[ -d /dev/shm ] && base=/dev/shm
out=${OUT:-$base/ztgw-fuzz/out}
findings=${FINDINGS:-$base/ztgw-fuzz/findings/$target}
inputs=$base/ztgw-fuzz/inputs/$target

# afl-fuzz takes one input folder: the kept corpus and the seeds together.
rm -rf "$inputs"
mkdir -p "$inputs" "$(dirname "$findings")"
for dir in fuzz/corpus/$target fuzz/seeds/$target; do
  [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -exec cp {} "$inputs"/ \;
done

export AFL_SKIP_BIN_CHECK=1          # the target is dotnet, not an instrumented ELF
export AFL_NO_AFFINITY=1             # the cores are shared: do not pin one
export AFL_SKIP_CPUFREQ=1            # the governor is not ours to change
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1   # where core_pattern pipes to a handler (it is "core" here)
export AFL_NO_UI=1
export AFL_FAST_CAL=1                # calibrating a slow target needs fewer runs
export DOTNET_TieredPGO=0            # the same path on every run
exec nice -n 10 afl-fuzz -V "$seconds" -i "$inputs" -o "$findings" -t 5000 -m none -- "$(command -v dotnet)" "$out/ZtGateway.Fuzz.dll" "$target"
