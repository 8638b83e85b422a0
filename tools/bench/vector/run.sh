#!/bin/sh
# run.sh -- the ANN comparison: NextDB's HNSW (tools/bench/vector/ann.c, called
# directly), hnswlib and FAISS HNSW on Fashion-MNIST with the same parameters, data
# and ground truth, each pinned to one core with numactl; prints one table and, when
# matplotlib is installed, writes a recall-vs-QPS plot.
#
# Usage: tools/bench/vector/run.sh [OUT_DIR]        (default /tmp/nextdb-ann)
# Environment (defaults in brackets):
#   ANN       the ann binary [build/release/tools/ann]
#   DATA      dataset dir [/usr/share/datasets/fashion-mnist]
#   BASE_N [60000]  QUERY_N [10000]  M [16]  EFC [200]
#   EFS       ef_search sweep [10,20,40,80,120,200,400]
#   CPU       core to pin to [1]
# Needs: numactl, gzip, Debian packages dataset-fashion-mnist, python3-hnswlib,
# python3-faiss, python3-numpy (python3-matplotlib for the plot).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-/tmp/nextdb-ann}
ANN=${ANN:-build/release/tools/ann}
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
BASE_N=${BASE_N:-60000}
QUERY_N=${QUERY_N:-10000}
M=${M:-16}
EFC=${EFC:-200}
EFS=${EFS:-10,20,40,80,120,200,400}
CPU=${CPU:-1}
PY=/usr/bin/python3

if [ ! -x "$ANN" ]; then
    echo "run.sh: $ANN not found; build it with ninja build/release/tools/ann" >&2
    exit 1
fi
if [ ! -f "$DATA/train-images-idx3-ubyte.gz" ]; then
    echo "run.sh: $DATA missing; apt-get install dataset-fashion-mnist" >&2
    exit 1
fi
mkdir -p "$out"
pin="numactl --physcpubind=$CPU --localalloc"
res="$out/results.tsv"

$pin "$ANN" "$DATA" "$BASE_N" "$QUERY_N" "$M" "$EFC" "$EFS" "$out/gt.bin" > "$res"
$pin $PY "$here/ann_libs.py" run "$DATA" "$BASE_N" "$QUERY_N" "$M" "$EFC" "$EFS" "$out/gt.bin" >> "$res"

grep '^#' "$res"
printf '%-8s %5s %9s %9s %9s %9s %8s %10s\n' system ef recall@10 QPS p50_us p99_us build_s bytes/vec
grep -v '^#' "$res" | while IFS="$(printf '\t')" read -r sys ef rec qps p50 p99 build bpv; do
    printf '%-8s %5s %9s %9s %9s %9s %8s %10s\n' "$sys" "$ef" "$rec" "$qps" "$p50" "$p99" "$build" "$bpv"
done
if $PY -c 'import matplotlib' 2>/dev/null; then
    $PY "$here/ann_libs.py" plot "$res" "$out/recall_qps.png" && echo "plot: $out/recall_qps.png"
fi
