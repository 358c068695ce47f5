//! Benchmarks for the hcall module (being built).

fn main() {}
