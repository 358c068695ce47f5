//! Benchmarks for the magic module (being built).

fn main() {}
