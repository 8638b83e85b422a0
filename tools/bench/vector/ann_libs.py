#!/usr/bin/python3
"""ann_libs.py -- hnswlib and FAISS HNSW on the same data, parameters and ground truth
as tools/bench/vector/ann.c, printing rows in the same tab-separated format:

    system ef recall@10 qps p50_us p99_us build_s bytes_per_vector

Usage:
  ann_libs.py run DATASET_DIR BASE_N QUERY_N M EF_CONSTRUCTION EF_LIST GT_FILE
  ann_libs.py plot RESULTS_TSV OUT_PNG

Times are CPU time (time.process_time / time.thread_time), as in ann.c: the machine
may be shared, and wall time would measure the neighbours' load. Both libraries are
pinned to one thread (hnswlib num_threads=1, faiss
omp_set_num_threads(1)); run.sh also pins the process with numactl. QPS comes from
the fastest of PASSES batched calls over all queries (no per-query Python overhead;
ann.c likewise reports its fastest of 3 passes); p50/p99 come from
one call per query and so include about a microsecond or two of Python call
overhead. bytes_per_vector is the size of the serialized index divided by the
number of vectors. Needs Debian's python3-hnswlib, python3-faiss, python3-numpy
(and python3-matplotlib for plot).
"""
import gzip
import os
import sys
import tempfile
import time

K = 10
PASSES = 3


def read_idx(path, max_count):
    import numpy as np
    with gzip.open(path, "rb") as f:
        hdr = f.read(16)
        n = int.from_bytes(hdr[4:8], "big")
        rows = int.from_bytes(hdr[8:12], "big")
        cols = int.from_bytes(hdr[12:16], "big")
        n = min(n, max_count)
        raw = f.read(n * rows * cols)
    return np.frombuffer(raw, dtype=np.uint8).reshape(n, rows * cols).astype(np.float32)


def score(dists, gt_dist):
    """Hits: returned distances <= the true 10th distance (ties count)."""
    import numpy as np
    limit = gt_dist[:, K - 1:K] * (1.0 + 1e-5)
    return float(np.sum(dists[:, :K] <= limit)) / (dists.shape[0] * K)


def latencies(search_one, queries):
    lat = []
    for q in queries:
        t0 = time.thread_time()
        search_one(q)
        lat.append(time.thread_time() - t0)
    lat.sort()
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6


def run(argv):
    import numpy as np
    import hnswlib
    import faiss
    data_dir, base_n, query_n, m, efc, ef_list, gt_file = argv
    base = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), int(base_n))
    queries = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), int(query_n))
    m, efc = int(m), int(efc)
    efs = [int(x) for x in ef_list.split(",")]
    nq, dim = queries.shape
    gt = np.fromfile(gt_file, dtype=np.uint8)
    gt_dist = gt[nq * K * 4:].view(np.float32).reshape(nq, K)
    print("# hnswlib %s, faiss %s, load average %.2f" % (
        getattr(hnswlib, "__version__", "0.6.x (Debian)"), faiss.__version__, os.getloadavg()[0]))

    # hnswlib
    index = hnswlib.Index(space="l2", dim=dim)
    t0 = time.process_time()
    index.init_index(max_elements=base.shape[0], ef_construction=efc, M=m, random_seed=100)
    index.add_items(base, np.arange(base.shape[0]), num_threads=1)
    build_s = time.process_time() - t0
    with tempfile.NamedTemporaryFile(suffix=".hnswlib") as tmp:
        index.save_index(tmp.name)
        bpv = os.path.getsize(tmp.name) / base.shape[0]
    index.set_num_threads(1)
    for ef in efs:
        index.set_ef(max(ef, K))
        total = float("inf")
        for _ in range(PASSES):
            t0 = time.process_time()
            _, dists = index.knn_query(queries, k=K, num_threads=1)
            total = min(total, time.process_time() - t0)
        p50, p99 = latencies(lambda q: index.knn_query(q, k=K, num_threads=1), queries)
        print("hnswlib\t%d\t%.4f\t%.0f\t%.1f\t%.1f\t%.2f\t%.0f" % (
            ef, score(dists, gt_dist), nq / total, p50, p99, build_s, bpv), flush=True)
    del index

    # FAISS IndexHNSWFlat
    faiss.omp_set_num_threads(1)
    findex = faiss.IndexHNSWFlat(dim, m)
    findex.hnsw.efConstruction = efc
    t0 = time.process_time()
    findex.add(base)
    build_s = time.process_time() - t0
    bpv = faiss.serialize_index(findex).nbytes / base.shape[0]
    for ef in efs:
        findex.hnsw.efSearch = max(ef, K)
        total = float("inf")
        for _ in range(PASSES):
            t0 = time.process_time()
            dists, _ = findex.search(queries, K)
            total = min(total, time.process_time() - t0)
        p50, p99 = latencies(lambda q: findex.search(q.reshape(1, -1), K), queries)
        print("faiss\t%d\t%.4f\t%.0f\t%.1f\t%.1f\t%.2f\t%.0f" % (
            ef, score(dists, gt_dist), nq / total, p50, p99, build_s, bpv), flush=True)


def plot(argv):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    results, out = argv
    series = {}
    with open(results) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            series.setdefault(cols[0], []).append((float(cols[2]), float(cols[3])))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, pts in series.items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (1 core)")
    ax.set_yscale("log")
    ax.set_title("Fashion-MNIST 60k x 784, M=16, ef_construction=200")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "run" and len(sys.argv) == 9:
        run(sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "plot":
        plot(sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
