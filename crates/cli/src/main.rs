//! The `ferrovs` multi-call binary.
//!
//! One executable carries every tool. The personality comes from the name it
//! was started under (`ovs-ofctl`, `ovs-vsctl`, … as installed links) or, when
//! started as `ferrovs`, from its first argument (`ferrovs ofctl …`).
//! This crate owns only argument handling and the glue from a command line to
//! the rooms below; protocol and data logic live in the library crates.

mod appctl;
mod db_format;
mod dpctl;
mod getopt;
mod ofctl;
mod ovsdb_client;
mod ovsdb_server;
mod ovsdb_tool;
mod personality;
mod vsctl;
mod vswitchd;

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(personality::dispatch(args));
}
