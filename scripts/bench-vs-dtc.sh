#!/usr/bin/env bash
# Whole-process speed and memory of `ppcpv dump/inspect/get` against dtc and fdtget on
# the corpus's largest tree (synthetic-large-100k: 6.5 MiB, 100,102 nodes).
#
#   scripts/bench-vs-dtc.sh [CORPUS_DIR]      (default: $PPCPV_CORPUS or ../shared/corpus)
#
# Needs: hyperfine, dtc, fdtget, xz, GNU time (/usr/bin/time). Builds the release binary.
# Prints hyperfine's tables, the ratios the issue asks for, and dump's peak RSS.
# Targets: dump and inspect <= 0.05 x dtc's time; get <= fdtget's time;
# dump's peak RSS <= file size + 16 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-${PPCPV_CORPUS:-../shared/corpus}}
for p in hyperfine dtc fdtget xz /usr/bin/time; do
  command -v "$p" >/dev/null || { echo "missing: $p" >&2; exit 2; }
done
cargo build --release --quiet
PPCPV=$PWD/target/release/ppcpv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DTB=$WORK/large.dtb
xz -dc "$CORPUS/dtb/synthetic-large-100k.dtb.xz" > "$DTB"
SIZE=$(stat -c %s "$DTB")
echo "tree: synthetic-large-100k.dtb, $SIZE bytes; $(nproc) CPUs; $(uptime | sed 's/.*load/load/')"

# The deepest-last node: a lookup that has to pass most of the tree.
NODE=$("$PPCPV" get "$DTB" / | tail -1 | tr -d /)
LAST=$(fdtget -l "$DTB" "/$NODE" | tail -1)
GETPATH="/$NODE/$LAST"
echo "get path: $GETPATH"

mean() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["mean"])' "$@"; }

hyperfine -N --warmup 0 --runs 3 --export-json "$WORK/dump.json" \
  "dtc -q -I dtb -O dts -o /dev/null $DTB" \
  "$PPCPV dump $DTB -o /dev/null"
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/inspect.json" \
  "$PPCPV inspect $DTB"
hyperfine -N --warmup 3 --runs 50 --export-json "$WORK/get.json" \
  "fdtget -p $DTB $GETPATH" \
  "$PPCPV get -p $DTB $GETPATH" \
  "fdtget $DTB / compatible" \
  "$PPCPV get $DTB / compatible"

DTC=$(mean "$WORK/dump.json" 0)
DUMP=$(mean "$WORK/dump.json" 1)
INSPECT=$(mean "$WORK/inspect.json" 0)
python3 - "$DTC" "$DUMP" "$INSPECT" "$(mean "$WORK/get.json" 0)" "$(mean "$WORK/get.json" 1)" \
  "$(mean "$WORK/get.json" 2)" "$(mean "$WORK/get.json" 3)" <<'EOF'
import sys
dtc, dump, inspect, fg1, pg1, fg2, pg2 = map(float, sys.argv[1:])
print(f"\ndtc dump        {dtc*1000:9.1f} ms")
print(f"ppcpv dump      {dump*1000:9.1f} ms  = {dump/dtc:.4f} x dtc (target <= 0.05)")
print(f"ppcpv inspect   {inspect*1000:9.1f} ms  = {inspect/dtc:.4f} x dtc (target <= 0.05)")
print(f"get -p (deep)   fdtget {fg1*1000:.1f} ms, ppcpv {pg1*1000:.1f} ms = {pg1/fg1:.2f} x fdtget")
print(f"get / compat    fdtget {fg2*1000:.1f} ms, ppcpv {pg2*1000:.1f} ms = {pg2/fg2:.2f} x fdtget")
EOF

RSS_KB=$(/usr/bin/time -f %M "$PPCPV" dump "$DTB" -o /dev/null 2>&1 >/dev/null | tail -1)
LIMIT_KB=$(( SIZE / 1024 + 16 * 1024 ))
echo "ppcpv dump peak RSS ${RSS_KB} KiB (limit: file + 16 MiB = ${LIMIT_KB} KiB)"
DTC_RSS_KB=$(/usr/bin/time -f %M dtc -q -I dtb -O dts -o /dev/null "$DTB" 2>&1 >/dev/null | tail -1)
echo "dtc dump peak RSS ${DTC_RSS_KB} KiB"
