//! Message bodies, one module per family. Each has a `Repr` type with
//! `decode` (never panics; errors are the `OfpErr` upstream would send),
//! an encoder, and a `format` that writes upstream's ofp-print text.

pub mod control;
pub mod ct_flush;
pub mod flow;
pub mod flow_mod;
pub mod group;
pub mod group_mod;
pub mod group_text;
pub mod message;
pub mod meter;
pub mod monitor;
pub mod packet_in;
pub mod packet_out;
pub mod port;
pub mod props;
pub mod queue;
pub mod stats;
pub mod switch;
pub mod table_desc;
pub mod table_features;
pub mod tlv_table;
