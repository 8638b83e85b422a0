#!/usr/bin/python3
"""tests/crash/soak.py -- the crash tests of tests/integration/test_crash.py, run for
as long as you like instead of CI-sized: kill -9 mid-write, restart, verify every
acknowledged write and the atomicity of cross-shard transfers; repeat.

Usage: /usr/bin/python3 tests/crash/soak.py [--iterations N] [--clients C]
           [--seconds S] [--shards N] [--target nextdb|postgres] [--workload kv|transfers|both]
Exit status 0 when every iteration verified, 1 at the first violation (the server's
data directory and log are kept and their path printed).
Environment: NEXTDB_BIN as for the integration suite.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=3.0, help="writing time before each kill")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--target", choices=["nextdb", "postgres"], default=os.environ.get(
        "NEXTDB_TEST_TARGET", "nextdb"))
    ap.add_argument("--workload", choices=["kv", "transfers", "both"], default="both")
    args = ap.parse_args()
    os.environ["NEXTDB_TEST_TARGET"] = args.target
    os.environ["NEXTDB_CRASH_ITERATIONS"] = str(args.iterations)
    os.environ["NEXTDB_CRASH_CLIENTS"] = str(args.clients)
    os.environ["NEXTDB_CRASH_RUN_SECONDS"] = str(args.seconds)
    import harness          # noqa: E402 (reads the environment set above)
    import test_crash       # noqa: E402

    kw = {"shards": args.shards} if args.target == "nextdb" else {}
    server = harness.make_server("soak", **kw)
    ok = False
    try:
        server.start()
        started = time.monotonic()
        if args.workload in ("kv", "both"):
            test_crash.test_acknowledged_writes_survive_kill9(server)
            print("kv: %d kill/restart iterations verified" % args.iterations, flush=True)
        if args.workload in ("transfers", "both"):
            # The transfer test runs ITERATIONS // 2 kills; ask for the full count.
            test_crash.ITERATIONS = args.iterations * 2
            test_crash.test_transfers_atomic_across_kill9(server)
            print("transfers: %d kill/restart iterations verified" % args.iterations, flush=True)
        print("soak passed in %.0f s" % (time.monotonic() - started))
        ok = True
    except AssertionError as e:
        print("soak FAILED: %s" % e)
    finally:
        if ok:
            server.cleanup()
        else:
            server.kill()
            print("kept data directory and log in %s" % server.tmp)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
