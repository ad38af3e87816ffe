//! `Match`: a flow key plus a wildcard mask.
