#!/usr/bin/env bash
# Whole-process speed and peak memory of `ppcpv compile` against `dtc -I dts -O dtb` on
# the DTS of the corpus's largest tree (ref/synthetic-large-100k.dts.xz: the text dtc
# printed for the 100,102-node blob).
#
#   scripts/compile-vs-dtc.sh [CORPUS_DIR]      (default: $PPCPV_CORPUS or ../shared/corpus)
#   DTC_RUNS=N (default 2), PPCPV_RUNS=N (default 20)
#
# Needs: dtc, xz, hyperfine, python3, GNU time (/usr/bin/time). Builds the release
# binary. dtc needs 45-135 s on this file (its checks and phandle search grow faster
# than the tree), so it runs only DTC_RUNS times. Prints hyperfine's mean of each, the
# ratio (target: ppcpv <= 0.01 x dtc), the peak RSS of one run of each (target: a
# small multiple of the source) and whether the two blobs are byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-${PPCPV_CORPUS:-../shared/corpus}}
DTC_RUNS=${DTC_RUNS:-2}
PPCPV_RUNS=${PPCPV_RUNS:-20}
for p in dtc xz hyperfine python3 /usr/bin/time; do
  command -v "$p" >/dev/null || { echo "missing: $p" >&2; exit 2; }
done
cargo build --release --quiet --bin ppcpv
PPCPV=$PWD/target/release/ppcpv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DTS=$WORK/large.dts
xz -dc "$CORPUS/ref/synthetic-large-100k.dts.xz" > "$DTS"
SIZE=$(stat -c %s "$DTS")
echo "source: synthetic-large-100k.dts, $SIZE bytes; $(nproc) CPUs; $(uptime | sed 's/.*load/load/')"

hyperfine -N --runs "$DTC_RUNS" --export-json "$WORK/dtc.json" \
  "dtc -q -I dts -O dtb -o $WORK/dtc.dtb $DTS"
hyperfine -N --warmup 2 --runs "$PPCPV_RUNS" --export-json "$WORK/ppcpv.json" \
  "$PPCPV compile $DTS -o $WORK/ppcpv.dtb"

# Peak RSS (KiB) of one run.
peak() { /usr/bin/time -f '%M' -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }; cat "$WORK/t"; }
PPCPV_KB=$(peak "$PPCPV" compile "$DTS" -o "$WORK/ppcpv.dtb")
DTC_KB=$(peak dtc -q -I dts -O dtb -o "$WORK/dtc.dtb" "$DTS")

python3 - "$WORK/dtc.json" "$WORK/ppcpv.json" "$PPCPV_KB" "$DTC_KB" "$SIZE" <<'PY'
import json, sys
mean = lambda f: json.load(open(f))["results"][0]["mean"]
dtc, ours = mean(sys.argv[1]), mean(sys.argv[2])
kb, dkb, size = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"mean: dtc {dtc:.2f} s, ppcpv {ours * 1000:.1f} ms; ratio ppcpv/dtc {ours / dtc:.5f} (target <= 0.01)")
print(f"peak RSS: ppcpv {kb} KiB = {kb * 1024 / size:.1f} x the source; dtc {dkb} KiB")
PY
if cmp -s "$WORK/dtc.dtb" "$WORK/ppcpv.dtb"; then
  echo "blobs: byte-identical"
else
  echo "blobs: DIFFER ($(stat -c %s "$WORK/dtc.dtb") vs $(stat -c %s "$WORK/ppcpv.dtb") bytes)"
  exit 1
fi
