//! The ovs-ofctl(8) "Flow Syntax" parser (flow-mod descriptions from text).
