//! Sets of OpenFlow protocol variants that can express a match.
