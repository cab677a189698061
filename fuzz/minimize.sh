#!/usr/bin/env bash
# Minimizes what a run found into fuzz/corpus/TARGET: fuzz/minimize.sh TARGET.
# Takes the kept corpus, the seeds and the run's queue (FINDINGS, default /dev/shm/ztgw-fuzz/findings/TARGET),
# keeps the smallest set with the same coverage (afl-cmin), and names the files by content.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: fuzz/minimize.sh TARGET}
base=/tmp
[ -d /dev/shm ] && base=/dev/shm
out=${OUT:-$base/ztgw-fuzz/out}
findings=${FINDINGS:-$base/ztgw-fuzz/findings/$target}
all=$base/ztgw-fuzz/cmin-in/$target
# afl-showmap 4.04c fails to write its traces under /dev/shm ("Unable to open .../.traces") and afl-cmin refuses /tmp.
min=${XDG_CACHE_HOME:-$HOME/.cache}/ztgw-fuzz/cmin-out/$target

rm -rf "$all" "$min"
mkdir -p "$all" "$(dirname "$min")"
for dir in fuzz/corpus/$target fuzz/seeds/$target "$findings"/default/queue; do
  [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -exec cp {} "$all"/ \;
done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 DOTNET_TieredPGO=0
nice -n 10 afl-cmin -i "$all" -o "$min" -t 5000 -m none -- "$(command -v dotnet)" "$out/ZtGateway.Fuzz.dll" "$target"

# Content names: the same input kept twice is one file, and a re-run changes only what changed.
rm -rf "fuzz/corpus/$target"
mkdir -p "fuzz/corpus/$target"
for file in "$min"/*; do
  cp "$file" "fuzz/corpus/$target/$(sha256sum "$file" | cut -c1-16)"
done
echo "fuzz/corpus/$target: $(find "fuzz/corpus/$target" -type f | wc -l) files, $(du -sh "fuzz/corpus/$target" | cut -f1)"
