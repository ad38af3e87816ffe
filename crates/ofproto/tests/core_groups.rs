//! Differential tests of the group table: group-mods of every kind, bucket
//! insertion and removal, statistics, features, and errors.

mod core_common;
use core_common::Pair;

#[test]
fn add_modify_delete_groups() {
    let Some(p) = Pair::start("core-groups") else {
        return;
    };
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=1,type=all,bucket=output:1,bucket=output:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=3,type=indirect,bucket=output:1",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2",
    ]);
    p.same(&["-O", "OpenFlow15", "add-group", "group_id=5,type=select,selection_method=hash,fields(ip_src,nw_proto),bucket=bucket_id:7,output:1"]);
    for v in [
        "OpenFlow11",
        "OpenFlow12",
        "OpenFlow13",
        "OpenFlow14",
        "OpenFlow15",
    ] {
        p.same_unordered(&["-O", v, "dump-groups"]);
        p.same_unordered(&["-O", v, "dump-group-stats"]);
        p.same(&["-O", v, "dump-group-features"]);
    }
    p.same_unordered(&["-O", "OpenFlow15", "dump-groups", "2"]);
    p.same(&["-O", "OpenFlow13", "add-flow", "actions=group:1"]);
    p.same(&["-O", "OpenFlow13", "add-flow", "priority=3,actions=group:3"]);
    p.same_unordered(&["-O", "OpenFlow13", "dump-group-stats"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "mod-group",
        "group_id=1,type=all,bucket=output:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "mod-group",
        "group_id=9,type=all,bucket=output:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "--may-create",
        "mod-group",
        "group_id=9,type=all,bucket=output:2",
    ]);
    p.same_unordered(&["-O", "OpenFlow13", "dump-groups"]);
    p.same(&["-O", "OpenFlow13", "del-groups", "group_id=1"]);
    p.same(&["-O", "OpenFlow13", "dump-flows"]);
    p.same_unordered(&["-O", "OpenFlow13", "dump-groups"]);
    p.same(&["-O", "OpenFlow13", "del-groups"]);
    p.same_unordered(&["-O", "OpenFlow13", "dump-groups"]);
    p.same(&["-O", "OpenFlow13", "dump-flows"]);
}

#[test]
fn buckets_and_errors() {
    let Some(p) = Pair::start("core-groups-err") else {
        return;
    };
    p.same(&[
        "-O",
        "OpenFlow15",
        "add-group",
        "group_id=1,type=all,bucket=bucket_id:1,output:1,bucket=bucket_id:2,output:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "insert-buckets",
        "group_id=1,command_bucket_id=first,bucket=bucket_id:3,output:3",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "insert-buckets",
        "group_id=1,command_bucket_id=last,bucket=bucket_id:4,output:4",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "insert-buckets",
        "group_id=1,command_bucket_id=2,bucket=bucket_id:5,output:5",
    ]);
    p.same_unordered(&["-O", "OpenFlow15", "dump-groups"]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "insert-buckets",
        "group_id=1,command_bucket_id=last,bucket=bucket_id:4,output:4",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "insert-buckets",
        "group_id=1,command_bucket_id=77,bucket=bucket_id:8,output:4",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "remove-buckets",
        "group_id=1,command_bucket_id=first",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "remove-buckets",
        "group_id=1,command_bucket_id=5",
    ]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "remove-buckets",
        "group_id=1,command_bucket_id=55",
    ]);
    p.same_unordered(&["-O", "OpenFlow15", "dump-groups"]);
    p.same(&[
        "-O",
        "OpenFlow15",
        "remove-buckets",
        "group_id=1,command_bucket_id=all",
    ]);
    p.same_unordered(&["-O", "OpenFlow15", "dump-groups"]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=1,type=all,bucket=output:1",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=2,type=indirect,bucket=output:1,bucket=output:2",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=3,type=ff,bucket=output:1",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=4,type=all,bucket=watch_port:1,output:1",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=5,type=all,bucket=actions=group:99",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=6,type=all,bucket=actions=group:6",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=4294967040,type=all,bucket=output:1",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=7,type=ff,bucket=watch_group:70,output:1",
    ]);
    p.same(&[
        "-O",
        "OpenFlow13",
        "add-group",
        "group_id=8,type=ff,bucket=watch_group:1,output:1",
    ]);
    p.same_unordered(&["-O", "OpenFlow13", "dump-groups"]);
}
