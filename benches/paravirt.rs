//! Benchmarks for the paravirt module (being built).

fn main() {}
