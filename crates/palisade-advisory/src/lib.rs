//! OSV advisory database (being written).
