//! Benchmarks for the fdt module (being built).

fn main() {}
