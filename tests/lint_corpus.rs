//! `ppcpv::fdt::lint` against dtc 1.6.1 on the shared corpus: for every blob both read,
//! the lines `as_dtc_reports` gives are the `ERROR (...)` lines dtc printed
//! (`ref/NAME.dtc.stderr.txt`, recorded from `dtc -I dtb -O dts`), and a blob dtc printed
//! no error for has none.

mod common;

use ppcpv::fdt::Fdt;
use ppcpv::fdt::lint::{as_dtc_reports, dtc_errors};

#[test]
#[ignore = "needs the corpus (PPCPV_CORPUS)"]
fn lint_matches_dtc_on_the_corpus() {
    let corpus = common::corpus("lint_matches_dtc_on_the_corpus").unwrap();
    let (mut compared, mut with_errors) = (0, 0);
    for e in std::fs::read_dir(corpus.join("dtb")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("dtb") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let blob = std::fs::read(&path).unwrap();
        let Ok(fdt) = Fdt::new(&blob) else { continue };
        let stderr = std::fs::read_to_string(corpus.join(format!("ref/{stem}.dtc.stderr.txt")))
            .unwrap_or_default();
        if stderr.contains("FATAL ERROR") {
            continue; // dtc could not read it; nothing to compare
        }
        let want: Vec<String> = stderr
            .lines()
            .filter(|l| l.contains(": ERROR ("))
            .map(|l| l.split_once(": ").unwrap().1.to_string())
            .collect();
        let all = dtc_errors(&fdt);
        let got: Vec<String> = as_dtc_reports(&all).iter().map(|v| v.to_string()).collect();
        assert_eq!(got, want, "{stem}");
        compared += 1;
        with_errors += usize::from(!want.is_empty());
    }
    assert!(compared >= 75, "only {compared} blobs compared");
    assert!(with_errors >= 2, "only {with_errors} blobs with errors");
}
