//! Flow-mod semantics: add (with overlap check and replacement), modify
//! and modify_strict, delete and delete_strict, with cookie, out_port and
//! out_group filters, as every OpenFlow version defines them.
