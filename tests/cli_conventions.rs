//! The conventions every subcommand shares: help that works, usage errors exit 2,
//! failures exit 1 with one clear line, completions for each shell.

mod common;

use common::run;

/// Every leaf subcommand of the CLI.
const LEAVES: &[&[&str]] = &[
    &["gen"],
    &["patch"],
    &["inspect"],
    &["dump"],
    &["get"],
    &["hypervisor"],
    &["hcall", "list"],
    &["hcall", "token"],
    &["hcall", "abi"],
    &["hcall", "features"],
    &["hcall", "call"],
    &["insn", "asm"],
    &["insn", "disasm"],
    &["insn", "seq"],
    &["magic", "layout"],
    &["magic", "dump"],
    &["magic", "set"],
    &["magic", "swab"],
    &["paravirt", "scan"],
    &["paravirt", "apply"],
    &["completions"],
];

#[test]
fn every_subcommand_has_help() {
    for leaf in LEAVES {
        let mut args = leaf.to_vec();
        args.push("--help");
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: ppcpv"), "{args:?}: {text}");
    }
}

#[test]
fn unknown_options_are_usage_errors() {
    for leaf in LEAVES {
        let mut args = leaf.to_vec();
        args.push("--no-such-option");
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(run(&[]).status.code(), Some(2));
}

#[test]
fn a_missing_file_is_one_clear_line_and_exit_1() {
    for args in [
        &["dump", "/nonexistent/x.dtb"][..],
        &["inspect", "/nonexistent/x.dtb"],
        &["get", "/nonexistent/x.dtb", "/"],
        &["paravirt", "scan", "/nonexistent/x.bin"],
        &["patch", "/nonexistent/x.dtb", "-o", "-"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("ppcpv: error: /nonexistent/"), "{err}");
        assert_eq!(
            err.matches("No such file").count(),
            1,
            "cause printed twice: {err}"
        );
    }
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete"),
        ("zsh", "#compdef ppcpv"),
        ("fish", "complete -c ppcpv"),
    ] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(marker), "{shell}");
        assert!(text.contains("hypervisor"), "{shell} lists subcommands");
    }
    assert_eq!(run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn version() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ppcpv "));
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    use std::process::Stdio;
    // Commands whose output is large enough to hit the closed pipe.
    let dtb = common::data("qemu-powernv8.dtb");
    let dtb = dtb.to_str().unwrap();
    for args in [
        &["completions", "bash"][..],
        &["hcall", "list"],
        &["hcall", "list", "--json"],
        &["magic", "layout", "--json"],
        &["paravirt", "table"],
        &["dump", dtb],
        &["inspect", dtb, "--json"],
    ] {
        let mut child = common::ppcpv()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn writing_to_dev_null_keeps_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    for args in [
        &["gen", "-o", "/dev/null"][..],
        &["hypervisor", "-o", "/dev/null"],
        &["gen", "--format", "dts", "-o", "/dev/null"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(
            meta.file_type().is_char_device(),
            "{args:?} replaced /dev/null with a regular file"
        );
    }
}

/// Usage errors found by argument parsing and failures found later share one prefix.
#[test]
fn one_error_prefix_for_every_error() {
    for args in [
        &["gen", "--pad", "x"][..],
        &["nosuch"][..],
        &["dump", "/nonexistent/x.dtb"][..],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("ppcpv: error: "), "{args:?}: {err}");
        assert!(!err.contains("\nerror:"), "{args:?}: {err}");
    }
}

/// Numbers: one syntax everywhere (decimal or 0x/0X hex, `_` between digits only).
#[test]
fn numbers_are_strict_everywhere() {
    for bad in [" 12", "12 ", "1__0", "_1", "0x"] {
        let out = run(&["gen", "--pad", bad, "-o", "-"]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
    let out = run(&["hcall", "token", "--decode", "0X2A_0003"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
