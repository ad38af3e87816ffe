//! Times N single-row transactions (bridge with growing port list) through
//! the storage layer, each fsync'd: `cargo run --example txn_bench -p
//! ferrovs-ovsdb -- [N] [DIR]`.

use ovsdb::storage::{self, OpenOptionsDb, Storage, TailPolicy, TransactReply};
use ovsdb::{DatabaseSchema, ExecOptions};
use serde_json::json;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| std::env::temp_dir().to_string_lossy().into_owned());
    let path = format!("{dir}/txn_bench_{}.db", std::process::id());
    let schema =
        DatabaseSchema::from_file("/usr/share/openvswitch/vswitch.ovsschema").expect("schema");
    storage::create(&path, &schema).expect("create");
    let mut s = Storage::open(
        &path,
        OpenOptionsDb {
            read_only: false,
            tail: TailPolicy::Fail,
        },
    )
    .expect("open");
    let run = |s: &mut Storage, p: serde_json::Value| match s
        .transact(&p, &ExecOptions::default())
        .expect("transact")
    {
        TransactReply::Done { results, .. } => results,
        TransactReply::Blocked { .. } => panic!("blocked"),
    };
    run(
        &mut s,
        json!(["Open_vSwitch",
        {"op":"insert","table":"Open_vSwitch","row":{"bridges":["named-uuid","br"]}},
        {"op":"insert","table":"Bridge","uuid-name":"br","row":{"name":"br0"}}]),
    );
    let start = Instant::now();
    for i in 0..n {
        let r = run(
            &mut s,
            json!(["Open_vSwitch",
            {"op":"insert","table":"Interface","uuid-name":"i","row":{"name":format!("p{i}")}},
            {"op":"insert","table":"Port","uuid-name":"p","row":{"name":format!("p{i}"),"interfaces":["named-uuid","i"]}},
            {"op":"mutate","table":"Bridge","where":[["name","==","br0"]],"mutations":[["ports","insert",["set",[["named-uuid","p"]]]]]}]),
        );
        assert!(r[2]["count"] == 1, "{r}");
    }
    let el = start.elapsed();
    println!(
        "{n} add-port transactions: {:.3} s ({:.1} us each)",
        el.as_secs_f64(),
        el.as_secs_f64() * 1e6 / n as f64
    );
    let _ = std::fs::remove_file(&path);
}
