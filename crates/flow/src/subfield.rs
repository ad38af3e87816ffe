//! Subfields: `field[ofs..end]` references.
