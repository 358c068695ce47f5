#!/usr/bin/env bash
# Whole-process speed and peak memory of `ppcpv compile` against `dtc -I dts -O dtb` on
# the DTS of the corpus's largest tree (ref/synthetic-large-100k.dts.xz: the text dtc
# printed for the 100,102-node blob).
#
#   scripts/compile-vs-dtc.sh [CORPUS_DIR]      (default: $PPCPV_CORPUS or ../shared/corpus)
#
# Needs: dtc, xz, GNU time (/usr/bin/time). Builds the release binary. dtc needs
# 45-135 s on this file (its checks and phandle search grow faster than the tree), so
# it runs once; ppcpv runs five times. Prints wall time and peak RSS of each, the
# ratio (target: ppcpv <= 0.01 x dtc) and whether the two blobs are byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-${PPCPV_CORPUS:-../shared/corpus}}
for p in dtc xz /usr/bin/time; do
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

# Prints "seconds peak-KiB" of one run.
run() { /usr/bin/time -f '%e %M' -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }; cat "$WORK/t"; }

read -r DTC_S DTC_KB < <(run dtc -q -I dts -O dtb -o "$WORK/dtc.dtb" "$DTS")
echo "dtc:   ${DTC_S} s, peak RSS ${DTC_KB} KiB"
BEST=
for i in 1 2 3 4 5; do
  read -r S KB < <(run "$PPCPV" compile "$DTS" -o "$WORK/ppcpv.dtb")
  echo "ppcpv: ${S} s, peak RSS ${KB} KiB"
  if [ -z "$BEST" ] || python3 -c "import sys; sys.exit(0 if $S < $BEST else 1)"; then BEST=$S; BEST_KB=$KB; fi
done
python3 - "$DTC_S" "$BEST" "$BEST_KB" "$SIZE" <<'PY'
import sys
dtc, ours, kb, size = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
print(f"ratio ppcpv/dtc: {ours / dtc:.5f} (target <= 0.01); ppcpv peak RSS = {kb * 1024 / size:.1f} x the source")
PY
if cmp -s "$WORK/dtc.dtb" "$WORK/ppcpv.dtb"; then
  echo "blobs: byte-identical"
else
  echo "blobs: differ ($(stat -c %s "$WORK/dtc.dtb") vs $(stat -c %s "$WORK/ppcpv.dtb") bytes)"
  if "$PPCPV" dump "$WORK/dtc.dtb" | cmp -s - <("$PPCPV" dump "$WORK/ppcpv.dtb"); then
    echo "trees: identical (the difference is layout: dtc shares string-table tails)"
  else
    echo "trees: DIFFERENT"
  fi
fi
