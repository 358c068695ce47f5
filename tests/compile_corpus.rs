//! The compiler over the shared corpus: every source in `src/` must compile to the
//! blob dtc 1.6.1 made of it (with each family's dtc options, from the corpus
//! README and `sources.tsv`), and every blob dtc round-trips must come back from
//! `compile(dump(blob))` as the bytes `dtc -I dts -O dtb` makes of the same text.

mod common;

use ppcpv::fdt::compile::{CompileOptions, StdFiles, compile};
use ppcpv::fdt::writer::{Padding, PhandleStyle};
use std::path::Path;
use std::process::Command;

fn pad(n: u32) -> Padding {
    Padding {
        pad: Some(n),
        ..Padding::NONE
    }
}

/// (source, options, blob dtc wrote with those options).
fn cases() -> Vec<(String, CompileOptions, String)> {
    let dir = common::corpus("compile_corpus").unwrap();
    let mut out = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(dir.join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().to_owned())
        .filter(|n| n.ends_with(".dts"))
        .collect();
    names.sort();
    for n in names {
        let stem = n.trim_end_matches(".dts").to_owned();
        let o = CompileOptions::new();
        if stem.starts_with("linux-") {
            // dtc -I dts -O dtb -b 0
            out.push((n, o.boot_cpuid_phys(0), format!("{stem}.dtb")));
        } else if stem.starts_with("topaz-") {
            // the hv-cfg Makefile: dtc -I dts -O dtb -b 0 -p 1024
            out.push((
                n,
                o.boot_cpuid_phys(0).padding(pad(1024)),
                format!("{stem}.dtb"),
            ));
        } else if stem.starts_with("synthetic-overlay-") {
            out.push((n, o.symbols(true), format!("{stem}.dtbo")));
        } else if stem == "synthetic-allprops" {
            let variants: [(&str, CompileOptions); 7] = [
                ("", CompileOptions::new()),
                ("-symbols", CompileOptions::new().symbols(true)),
                (
                    "-phandle-legacy",
                    CompileOptions::new().phandle_style(PhandleStyle::Legacy),
                ),
                (
                    "-phandle-both",
                    CompileOptions::new().phandle_style(PhandleStyle::Both),
                ),
                ("-pad8k", CompileOptions::new().padding(pad(8192))),
                ("-bootcpu3", CompileOptions::new().boot_cpuid_phys(3)),
                (
                    "-align256",
                    CompileOptions::new().padding(Padding {
                        align: Some(256),
                        ..Padding::NONE
                    }),
                ),
            ];
            for (suffix, opts) in variants {
                out.push((n.clone(), opts, format!("{stem}{suffix}.dtb")));
            }
        } else {
            out.push((n, o, format!("{stem}.dtb")));
        }
    }
    out
}

#[test]
#[ignore = "needs the corpus"]
fn corpus_sources_compile_to_the_corpus_blobs() {
    let dir = common::corpus("corpus_sources_compile_to_the_corpus_blobs").unwrap();
    let mut bad = Vec::new();
    let cases = cases();
    for (src, opts, blob) in &cases {
        let path = dir.join("src").join(src);
        let text = std::fs::read(&path).unwrap();
        let want = std::fs::read(dir.join("dtb").join(blob)).unwrap();
        match compile(&text, path.to_str().unwrap(), opts, &mut StdFiles) {
            Ok(got) if got == want => {}
            Ok(got) => bad.push(format!("{blob}: {} bytes, dtc {}", got.len(), want.len())),
            Err(e) => bad.push(format!("{blob}: {e}")),
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}

/// Blobs `dtc -I dtb -O dtb` accepts (the corpus manifest's dtc_rc 0), without the
/// corrupt, old-format and compressed ones.
fn round_trip_blobs(dir: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(dir.join("manifest.tsv")).unwrap();
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let name = f[0];
        if name.contains("corrupt")
            || name.ends_with(".xz")
            || name.contains("-v1")
            || name.contains("-v2")
            || name.contains("-v3")
        {
            continue;
        }
        // Column 9 is dtc_rc.
        if f.get(9) == Some(&"0") {
            out.push(name.to_owned());
        }
    }
    out
}

#[test]
#[ignore = "needs dtc, the corpus"]
fn dumps_recompile_like_dtc() {
    common::interop("dumps_recompile_like_dtc", "dtc");
    let dir = common::corpus("dumps_recompile_like_dtc").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut bad = Vec::new();
    let blobs = round_trip_blobs(&dir);
    for name in &blobs {
        let blob = dir.join("dtb").join(name);
        let dump = common::ppcpv()
            .args(["dump", blob.to_str().unwrap()])
            .output()
            .unwrap();
        if !dump.status.success() {
            continue;
        }
        let dts = tmp.path().join("t.dts");
        std::fs::write(&dts, &dump.stdout).unwrap();
        let want = Command::new("dtc")
            .args(["-q", "-I", "dts", "-O", "dtb", dts.to_str().unwrap()])
            .output()
            .unwrap();
        let got = compile(&dump.stdout, "t.dts", &CompileOptions::new(), &mut StdFiles);
        match (want.status.success(), got) {
            (true, Ok(g)) if g == want.stdout => {}
            (false, Err(_)) => {}
            (true, Ok(g)) => bad.push(format!(
                "{name}: {} bytes, dtc {}",
                g.len(),
                want.stdout.len()
            )),
            (ok, g) => bad.push(format!("{name}: dtc ok={ok}, ppcpv {:?}", g.err())),
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        blobs.len(),
        bad.join("\n")
    );
}
