//! The datapath (ODP) language: flow keys and masks (`key*`, owned by the
//! datapath room) and datapath actions ([`actions`]), with their text forms
//! exactly as `ovs-dpctl dump-flows` and `ofproto/trace` print them.

pub mod actions;
