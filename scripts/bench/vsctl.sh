#!/bin/sh
# ovs-vsctl: N (default 1000) sequential `ovs-vsctl --no-wait add-port` on
# one bridge, through upstream's ovs-vsctl and through ours, each against its
# own fresh upstream ovsdb-server, in the same run; prints both times and the
# ratio (upstream time / our time: above 1 means we are faster).
# Usage: scripts/bench/vsctl.sh [N]   (FERROVS=path to use a given binary)
set -e
cd "$(dirname "$0")/../.."
N=${1:-1000}
for b in /usr/bin/ovs-vsctl /usr/sbin/ovsdb-server /usr/bin/ovsdb-tool; do
    [ -x "$b" ] || { echo "skipping: $b (upstream Open vSwitch) is not installed"; exit 0; }
done
if [ -z "$FERROVS" ]; then
    cargo build -q --release -p ferrovs-cli
    FERROVS=$PWD/target/release/ferrovs
fi
SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
WORK=$(mktemp -d)
trap 'for d in up ours; do [ -f $WORK/$d/pid ] && kill $(cat $WORK/$d/pid) 2>/dev/null; done; rm -rf $WORK' EXIT

start() {
    mkdir -p "$WORK/$1"
    ovsdb-tool create "$WORK/$1/conf.db" "$SCHEMA"
    /usr/sbin/ovsdb-server --detach --no-chdir --pidfile="$WORK/$1/pid" \
        --unixctl="$WORK/$1/ctl" --remote=punix:"$WORK/$1/db.sock" \
        --log-file="$WORK/$1/log" "$WORK/$1/conf.db" 2>/dev/null
}

# run NAME VSCTL...: times N add-ports into a fresh database.
run() {
    name=$1; shift
    start "$name"
    db=--db=unix:$WORK/$name/db.sock
    "$@" "$db" --no-wait init -- add-br br0
    t0=$(date +%s%N)
    i=0
    while [ $i -lt "$N" ]; do
        "$@" "$db" --no-wait add-port br0 "p$i"
        i=$((i + 1))
    done
    t1=$(date +%s%N)
    ports=$("$@" "$db" --no-wait list-ports br0 | wc -l)
    [ "$ports" -eq "$N" ] || { echo "$name: expected $N ports, found $ports"; exit 1; }
    echo $(( (t1 - t0) / 1000000 ))
}

up=$(run up /usr/bin/ovs-vsctl)
ours=$(run ours "$FERROVS" ovs-vsctl)
echo "upstream ovs-vsctl: $N add-port in $up ms ($(( up * 1000 / N )) us each)"
echo "ferrovs  ovs-vsctl: $N add-port in $ours ms ($(( ours * 1000 / N )) us each)"
awk -v u="$up" -v o="$ours" 'BEGIN { printf "ratio (upstream/ferrovs): %.2f\n", u / o }'
