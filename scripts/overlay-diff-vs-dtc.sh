#!/usr/bin/env bash
# Whole-process speed and peak memory of `ppcpv overlay` against fdtoverlay and of
# `ppcpv diff` against dtdiff, on the corpus's largest tree (dtb/synthetic-large-100k,
# 100,102 nodes, 6.5 MiB):
#
#   * overlay: a small overlay (one node with two properties under /soc/bus@80000000,
#     by target-path) applied to the tree; targets: ppcpv <= 0.1 x fdtoverlay, and the
#     two outputs byte-identical;
#   * diff: the tree against the same tree with that node added; target: ppcpv <= 0.01 x
#     dtdiff (which sorts both trees through dtc, then runs diff -u).
#
#   scripts/overlay-diff-vs-dtc.sh [CORPUS_DIR]   (default: $PPCPV_CORPUS or ../shared/corpus)
#
# Needs: dtc, fdtoverlay, dtdiff, hyperfine, xz, python3, GNU time (/usr/bin/time).
# Builds the release binary. dtdiff takes minutes, so it runs once; the others run
# under hyperfine. Both wall and CPU (user + system) times are printed: on a loaded
# machine the CPU figures are the steadier comparison. ppcpv writes its output
# through a temporary file renamed over the target (fdtoverlay truncates and rewrites
# the target), so the overlay is also timed with -o /dev/null and with both outputs on
# tmpfs (/dev/shm), where filesystem work differs.
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-${PPCPV_CORPUS:-../shared/corpus}}
for p in dtc fdtoverlay dtdiff hyperfine xz python3 /usr/bin/time; do
  command -v "$p" >/dev/null || { echo "missing: $p" >&2; exit 2; }
done
cargo build --release --quiet --bin ppcpv
PPCPV=$PWD/target/release/ppcpv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BASE=$WORK/large.dtb
xz -dc "$CORPUS/dtb/synthetic-large-100k.dtb.xz" > "$BASE"
cat > "$WORK/small.dts" <<'EOF'
/dts-v1/;
/plugin/;
/ {
	fragment@0 {
		target-path = "/soc/bus@80000000";
		__overlay__ {
			added@0 {
				compatible = "test,added";
				reg = <0x0 0x10>;
			};
		};
	};
};
EOF
"$PPCPV" compile "$WORK/small.dts" -o "$WORK/small.dtbo"
echo "base: synthetic-large-100k.dtb, $(stat -c %s "$BASE") bytes; $(nproc) CPUs; $(uptime | sed 's/.*load/load/')"

fdtoverlay -i "$BASE" -o "$WORK/fdtoverlay.dtb" "$WORK/small.dtbo"
"$PPCPV" overlay "$BASE" "$WORK/small.dtbo" -o "$WORK/ppcpv.dtb"
if cmp -s "$WORK/fdtoverlay.dtb" "$WORK/ppcpv.dtb"; then
  echo "overlay outputs: byte-identical"
else
  echo "overlay outputs: DIFFERENT"; exit 1
fi

# Prints "wall-s cpu-s peak-KiB" of one run (exit status 1 allowed: diff's "different";
# GNU time then writes a "Command exited with non-zero status" line first).
run() { /usr/bin/time -f '%e %U %S %M' -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" || [ $? -eq 1 ] || { cat "$WORK/err" >&2; exit 1; }; read -r e u s m < <(tail -n 1 "$WORK/t"); python3 -c "print($e, round($u + $s, 3), $m)"; }

echo
echo "== overlay (hyperfine, 5 warm-ups, 30 runs)"
SHM=$(mktemp -d -p /dev/shm 2>/dev/null || echo "$WORK")
trap 'rm -rf "$WORK" "$SHM"' EXIT
hyperfine -N -w 5 -r 30 --export-json "$WORK/ov.json" \
  -n fdtoverlay "fdtoverlay -i $BASE -o $WORK/f.dtb $WORK/small.dtbo" \
  -n "ppcpv overlay" "$PPCPV overlay $BASE $WORK/small.dtbo -o $WORK/p.dtb" \
  -n "ppcpv overlay -o /dev/null" "$PPCPV overlay $BASE $WORK/small.dtbo -o /dev/null" \
  -n "fdtoverlay (tmpfs)" "fdtoverlay -i $BASE -o $SHM/f.dtb $WORK/small.dtbo" \
  -n "ppcpv overlay (tmpfs)" "$PPCPV overlay $BASE $WORK/small.dtbo -o $SHM/p.dtb" >/dev/null
python3 - "$WORK/ov.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
cpu = lambda x: x["user"] + x["system"]
for name, x in r.items():
    # Outputs on tmpfs are compared with each other.
    ref = r["fdtoverlay (tmpfs)" if name.endswith("(tmpfs)") else "fdtoverlay"]
    print(f"{name:28s} wall {x['mean']*1e3:7.1f} ms (median {x['median']*1e3:6.1f})  cpu {cpu(x)*1e3:6.1f} ms"
          f"  ratio wall {x['mean']/ref['mean']:.3f}  cpu {cpu(x)/cpu(ref):.3f}")
print("target: ppcpv <= 0.1 x fdtoverlay")
PY
read -r _ _ KB < <(run "$PPCPV" overlay "$BASE" "$WORK/small.dtbo" -o "$WORK/p.dtb")
echo "ppcpv overlay peak RSS: $KB KiB ($(python3 -c "print(round($KB*1024/$(stat -c %s "$BASE"), 2))") x the base)"

echo
echo "== diff (dtdiff once; ppcpv diff under hyperfine, 3 warm-ups, 10 runs)"
read -r DD_WALL DD_CPU DD_KB < <(run dtdiff "$BASE" "$WORK/fdtoverlay.dtb")
echo "dtdiff: wall ${DD_WALL} s, cpu ${DD_CPU} s"
hyperfine -N -i -w 3 -r 10 --export-json "$WORK/diff.json" \
  -n "ppcpv diff" "$PPCPV diff $BASE $WORK/fdtoverlay.dtb" >/dev/null
python3 - "$WORK/diff.json" "$DD_WALL" "$DD_CPU" <<'PY'
import json, sys
x = json.load(open(sys.argv[1]))["results"][0]
wall, cpu = float(sys.argv[2]), float(sys.argv[3])
c = x["user"] + x["system"]
print(f"ppcpv diff: wall {x['mean']*1e3:.1f} ms, cpu {c*1e3:.1f} ms;"
      f" ratio wall {x['mean']/wall:.4f}  cpu {c/cpu:.4f} (target <= 0.01)")
PY
read -r _ _ KB < <(run "$PPCPV" diff "$BASE" "$WORK/fdtoverlay.dtb")
echo "ppcpv diff peak RSS: $KB KiB ($(python3 -c "print(round($KB*1024/(2*$(stat -c %s "$BASE")), 2))") x the two inputs)"
echo "ppcpv diff output:"
"$PPCPV" diff "$BASE" "$WORK/fdtoverlay.dtb" | sed 's/^/  /' || true
