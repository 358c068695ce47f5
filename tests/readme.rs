//! The README shows `examples/tour.rs` verbatim; keep them identical.

#[test]
fn readme_shows_the_tour_example_verbatim() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let tour = std::fs::read_to_string(format!("{root}/examples/tour.rs")).unwrap();
    let block = format!("```rust\n{tour}```\n");
    assert!(
        readme.contains(&block),
        "README's Library section differs from examples/tour.rs: paste the file again"
    );
}

#[test]
fn readme_opens_with_the_two_commands() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let head: String = readme.lines().take(12).collect::<Vec<_>>().join("\n");
    assert!(head.contains("cargo run --release -- gen"), "{head}");
    assert!(head.contains("cargo test"), "{head}");
}
