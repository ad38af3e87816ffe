#!/bin/sh
# OVSDB server benchmark: 10,000 single-row transactions from one client,
# against upstream's ovsdb-server and ours, measured in the same run.
#
#   scripts/bench/ovsdb.sh [N]          (default N=10000)
#
# Two client behaviours are measured:
#   sequential  the client waits for each reply before sending the next
#               transaction (one commit = one fdatasync of the journal for
#               us: we never acknowledge before the commit is on disk;
#               upstream's standalone server acknowledges before any fsync
#               unless the transaction asks for "durable");
#   pipelined   the client sends all N transactions at once and then reads
#               the replies (our server group-commits: one fdatasync covers
#               every commit made while the previous one ran).
# The disk is shared and noisy: each figure is the median of ROUNDS runs
# (default 3), upstream's and ours alternating (which goes first alternates
# too). Ours is the release build (built here unless FERROVS names a
# binary): a debug build is about ten times slower and measures nothing
# useful.
# Prints transactions per second for each, and ours/upstream time ratios
# (below 1.0: we are faster). For the sequential mode it also measures,
# in the same rounds, the disk's floor: N times a 240-byte pwrite into a
# preallocated file and an fdatasync of it (what each of our sequential
# commits must wait for), and prints our time without it.
set -eu
N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
UP_SERVER=/usr/sbin/ovsdb-server
UP_TOOL=/usr/bin/ovsdb-tool
if [ ! -x "$UP_SERVER" ] || [ ! -x "$UP_TOOL" ]; then
    echo "ovsdb.sh: the reference Open vSwitch is not installed; nothing to compare" >&2
    exit 0
fi
if [ -z "${FERROVS:-}" ]; then
    FERROVS=$ROOT/target/release/ferrovs
    (cd "$ROOT" && cargo build -q --release -p ferrovs-cli)
fi
[ -x "$FERROVS" ] || { echo "ovsdb.sh: $FERROVS is not executable" >&2; exit 1; }
command -v python3 >/dev/null || { echo "ovsdb.sh: needs python3" >&2; exit 1; }

DIR=$(mktemp -d /tmp/ferrovs-bench-ovsdb.XXXXXX)
cleanup() {
    for p in "$DIR"/*/server.pid; do
        [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    rm -rf "$DIR"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT INT TERM

cat > "$DIR/bench.ovsschema" <<'EOF'
{"name": "Bench", "version": "1.0.0", "tables": {
  "Row": {"isRoot": true, "columns": {
    "n": {"type": "integer"},
    "name": {"type": "string"},
    "tags": {"type": {"key": "string", "value": "string", "min": 0, "max": "unlimited"}}}}}}
EOF

cat > "$DIR/client.py" <<'EOF'
import json, socket, sys, threading, time
path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def req(i):
    return json.dumps({"method": "transact", "id": i, "params": ["Bench",
        {"op": "insert", "table": "Row",
         "row": {"n": i, "name": "row%d" % i, "tags": ["map", [["k", str(i)]]]}}]}).encode()
s = socket.socket(socket.AF_UNIX)
s.connect(path)
dec = json.JSONDecoder()
buf = ""
def replies(count):
    global buf
    got = 0
    while got < count:
        data = s.recv(1 << 20)
        if not data:
            raise SystemExit("server closed the connection")
        buf += data.decode()
        while True:
            buf = buf.lstrip()
            if not buf:
                break
            try:
                msg, end = dec.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            if msg.get("method") == "echo":
                s.sendall(json.dumps({"result": msg["params"], "id": msg["id"], "error": None}).encode())
                continue
            if msg.get("id") is None or "method" in msg:
                continue
            if msg.get("error") is not None or "error" in (msg.get("result") or [{}])[0]:
                raise SystemExit("transaction failed: %r" % msg)
            got += 1
start = time.time()
if mode == "sequential":
    for i in range(n):
        s.sendall(req(i))
        replies(1)
else:
    t = threading.Thread(target=lambda: [s.sendall(req(i)) for i in range(n)])
    t.start()
    replies(n)
    t.join()
print("%.3f" % (time.time() - start))
EOF

# start KIND SERVER-CMD...: creates the database and starts a server in $DIR/KIND.
start() {
    kind=$1; shift
    d=$DIR/$kind
    mkdir -p "$d"
    "$UP_TOOL" create "$d/bench.db" "$DIR/bench.ovsschema"
    "$@" --detach --no-chdir --pidfile="$d/server.pid" --log-file="$d/server.log" \
        --remote="punix:$d/db.sock" --unixctl="$d/ctl" "$d/bench.db"
}

cat > "$DIR/floor.py" <<'EOF'
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
size = 1 << 20
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
if os.fstat(fd).st_size < size:
    os.pwrite(fd, bytes(size), 0)
    os.fsync(fd)
rec = b"x" * 240
start = time.time()
off = 0
for i in range(n):
    os.pwrite(fd, rec, off)
    os.fdatasync(fd)
    off = (off + len(rec)) % (size - len(rec))
print("%.3f" % (time.time() - start))
EOF

run() { python3 "$DIR/client.py" "$DIR/$1/db.sock" "$N" "$2"; }
floor() { python3 "$DIR/floor.py" "$DIR/floor.dat" "$N"; }

start upstream "$UP_SERVER"
start ours "$FERROVS" ovsdb-server

ROUNDS=${ROUNDS:-3}
echo "ovsdb: $N single-row transactions from one client (seconds, median of $ROUNDS alternating runs; lower is better)"
for mode in pipelined sequential; do
    ups=""; ourss=""; floors=""
    for r in $(seq "$ROUNDS"); do
        [ "$mode" = sequential ] && floors="$floors $(floor)"
        if [ $((r % 2)) = 1 ]; then
            ups="$ups $(run upstream $mode)"
            ourss="$ourss $(run ours $mode)"
        else
            ourss="$ourss $(run ours $mode)"
            ups="$ups $(run upstream $mode)"
        fi
    done
    python3 - "$mode" "$N" "$ups" "$ourss" "$floors" <<'EOF'
import statistics, sys
mode, n = sys.argv[1], int(sys.argv[2])
up = statistics.median(float(x) for x in sys.argv[3].split())
ours = statistics.median(float(x) for x in sys.argv[4].split())
print("  %-10s upstream %8.3f s (%8.0f txn/s)   ours %8.3f s (%8.0f txn/s)   ratio ours/upstream %.2f"
      % (mode, up, n / up, ours, n / ours, ours / up))
if sys.argv[5].split():
    fl = statistics.median(float(x) for x in sys.argv[5].split())
    print("  %-10s fdatasync floor %.3f s (%.0f us per commit); ours without it %.3f s, ratio to upstream %.2f"
          % ("", fl, fl / n * 1e6, ours - fl, (ours - fl) / up))
EOF
done
