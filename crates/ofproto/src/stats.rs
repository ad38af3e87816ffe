//! Statistics replies: flow, aggregate, table, port, queue, group and
//! meter statistics built from the switch's counters.
