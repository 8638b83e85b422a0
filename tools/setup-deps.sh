#!/usr/bin/env bash
# tools/setup-deps.sh -- installs every Debian package NextDB's build and tests need.
#
# Quick when everything is present: one dpkg-query call, no network. When something is
# missing: as root, `apt-get update` once and `apt-get install -y` the missing ones;
# not root, print the exact command to run and exit 1.
#
# Why these packages:
#   build        build-essential ninja-build python3 (configure.py)
#   libraries    liburing-dev libpg-query-dev libprotobuf-c-dev (headers only)
#                libmimalloc-dev libzstd-dev libssl-dev
#   benchmarks   numactl (CPU pinning in tools/bench)
#   tests        postgresql-15 postgresql-client-15 (reference server, psql, pgbench)
#                python3-pytest python3-psycopg2 python3-psycopg (integration suite,
#                run with /usr/bin/python3 so Debian's modules are visible)
#                prometheus (ships /usr/bin/promtool, used by `promtool check metrics`;
#                Debian 12 has no lighter package that contains promtool)
#                libpostgresql-jdbc-java (the JDBC driver test, tests/clients/jdbc)
#   test runtimes openjdk-17-jdk-headless (runs JdbcCheck.java with the source
#                launcher) and nodejs + npm (node-postgres test, tests/clients/node),
#                each only when its command is missing, so a machine with its own
#                JDK or Node.js keeps it
#                dataset-fashion-mnist (real 784-dim vectors for the HNSW recall test in
#                tests/integration/test_vector.py)
#   --bench (optional, not for CI) adds the comparison set of tools/bench/vector:
#                python3-hnswlib python3-faiss (the libraries NextDB's HNSW is measured
#                against), python3-numpy (their input arrays), python3-matplotlib (the
#                recall-vs-QPS plot), libpq-dev (tools/bench/vector/sql_ann.c, the
#                "through SQL over the wire" client)
# The build uses gcc's own sanitizer runtimes (libasan, libubsan, libtsan come with
# build-essential), so libclang-rt-14-dev is not needed.
set -euo pipefail

PACKAGES=(
    build-essential ninja-build python3
    liburing-dev libpg-query-dev libprotobuf-c-dev libmimalloc-dev libzstd-dev libssl-dev
    numactl
    postgresql-15 postgresql-client-15
    python3-pytest python3-psycopg2 python3-psycopg
    prometheus
    libpostgresql-jdbc-java
    dataset-fashion-mnist
)
if [ "${1:-}" = "--bench" ]; then
    PACKAGES+=(python3-hnswlib python3-faiss python3-numpy python3-matplotlib libpq-dev)
elif [ $# -gt 0 ]; then
    echo "usage: tools/setup-deps.sh [--bench]" >&2
    exit 2
fi
command -v javac >/dev/null 2>&1 || PACKAGES+=(openjdk-17-jdk-headless)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

# One dpkg-query for all packages; a package it does not know is simply not listed.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null \
            | awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=()
for p in "${PACKAGES[@]}"; do
    grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "setup-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "setup-deps: missing: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
    echo "setup-deps: not root; as root, run:"
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# --no-install-recommends keeps prometheus from pulling in its exporters.
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup-deps: installed ${missing[*]}"
