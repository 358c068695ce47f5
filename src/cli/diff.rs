//! `ppcpv diff`: two trees compared node by node (`ppcpv::fdt::diff`), with Linux's
//! `/hypervisor` verdict before and after when that node changed (`ppcpv::dt::diff`).
//! Exit codes as `diff` and `cmp` have them: 0 equal, 1 different, 2 trouble.

use super::CliError;
use crate::cli::input::read_dtb;
use clap::Args;
use ppcpv::dt::diff::{GuestChange, guest_change};
use ppcpv::fdt::Fdt;
use ppcpv::fdt::diff::{Change, DiffOptions, Value, diff, write_text};
use serde_json::{Value as Json, json};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `ppcpv diff`.
#[derive(Debug, Args)]
#[command(after_help = "\
Nodes are matched by path and properties by name; order, block sizes, offsets and free \
space do not count. Phandle cells (phandle, interrupt-parent, interrupt-map parents, the \
phandle lists dtc checks: clocks, gpios, ...) compare as the paths they point to and print \
as &{/path}, so renumbered phandles are no difference. Values print as `ppcpv dump` prints \
them: `+ /path` is a node only B has (its properties follow), `- /path` one only A has, \
`@ /path` one both have, followed by its `-` (A) and `+` (B) property lines. When \
/hypervisor changed, Linux's verdict before and after follows.

Exit status: 0 equal, 1 different, 2 trouble (unreadable or malformed input).

Examples:
  ppcpv diff board.dtb patched.dtb
  ppcpv diff --ignore rng-seed run1.dtb run2.dtb
  ppcpv diff --json a.dtb b.dtb")]
pub struct DiffArgs {
    /// The first tree (`-` for standard input).
    pub a: PathBuf,
    /// The second tree (`-` for standard input).
    pub b: PathBuf,
    /// Print the changes as JSON.
    #[arg(long)]
    pub json: bool,
    /// Leave properties called NAME out (on every node); repeatable.
    #[arg(long = "ignore", value_name = "NAME")]
    pub ignore: Vec<String>,
}

/// Runs `ppcpv diff`.
///
/// # Errors
/// [`CliError::Silent`] (exit 1) when the trees differ, after printing how;
/// [`CliError::Usage`] (exit 2) for any trouble.
pub fn run(a: DiffArgs) -> Result<(), CliError> {
    if a.a.as_os_str() == "-" && a.b.as_os_str() == "-" {
        return Err(CliError::usage(
            "standard input (`-`) can be only one of A and B",
        ));
    }
    let trouble =
        |p: &PathBuf, e: &dyn std::fmt::Display| CliError::usage(format!("{}: {e}", p.display()));
    let ia = read_dtb(&a.a).map_err(|e| CliError::usage(e.to_string()))?;
    let ib = read_dtb(&a.b).map_err(|e| CliError::usage(e.to_string()))?;
    let fa = Fdt::new(&ia).map_err(|e| trouble(&a.a, &e))?;
    let fb = Fdt::new(&ib).map_err(|e| trouble(&a.b, &e))?;
    let mut opts = DiffOptions::default();
    for n in &a.ignore {
        opts = opts.ignore(n.clone());
    }
    let changes = diff(&fa, &fb, &opts);
    let guest = guest_change(&fa, &fb, &changes);
    let io = |e: std::io::Error| CliError::Usage(format!("writing stdout: {e}"));
    if a.json {
        let doc = json!({
            "a": a.a.display().to_string(),
            "b": a.b.display().to_string(),
            "equal": changes.is_empty(),
            "changes": changes.iter().map(change_json).collect::<Vec<_>>(),
            "guest": guest.as_ref().map(guest_json),
        });
        super::print_json(&doc).map_err(|e| CliError::Usage(e.to_string()))?;
    } else if !changes.is_empty() {
        let mut text = Vec::new();
        writeln!(text, "--- {}", a.a.display()).map_err(io)?;
        writeln!(text, "+++ {}", a.b.display()).map_err(io)?;
        write_text(&changes, &mut text).map_err(io)?;
        if let Some(g) = &guest {
            write!(text, "{g}").map_err(io)?;
        }
        let mut out = std::io::stdout().lock();
        // Node and property names are the inputs' bytes: exact into a pipe, escaped on
        // a terminal (as `dump` prints them).
        if std::io::IsTerminal::is_terminal(&out) {
            let mut shown = Vec::with_capacity(text.len());
            ppcpv::text::push_escaped_layout(&mut shown, &text);
            text = shown;
        }
        out.write_all(&text).map_err(io)?;
        out.flush().map_err(io)?;
    }
    if changes.is_empty() {
        Ok(())
    } else {
        Err(CliError::Silent)
    }
}

/// A value as `dump` prints it after `name = ` (empty for an empty value).
fn value_text(v: &Value) -> String {
    let t = v.to_string();
    t.strip_prefix(" = ")
        .and_then(|t| t.strip_suffix(';'))
        .unwrap_or("")
        .to_owned()
}

fn props_json(props: &[(String, Value)]) -> Json {
    Json::Array(
        props
            .iter()
            .map(|(n, v)| json!({"name": n, "value": value_text(v)}))
            .collect(),
    )
}

fn change_json(c: &Change) -> Json {
    let hex = |v: u64| format!("{v:#x}");
    match c {
        Change::Version { a, b } => json!({"change": "version", "a": a, "b": b}),
        Change::BootCpu { a, b } => json!({"change": "boot-cpu", "a": a, "b": b}),
        Change::ReservationRemoved(r) => json!({"change": "memreserve-removed",
            "address": hex(r.address), "size": hex(r.size)}),
        Change::ReservationAdded(r) => json!({"change": "memreserve-added",
            "address": hex(r.address), "size": hex(r.size)}),
        Change::NodeRemoved { path, props } => {
            json!({"change": "node-removed", "path": path, "properties": props_json(props)})
        }
        Change::NodeAdded { path, props } => {
            json!({"change": "node-added", "path": path, "properties": props_json(props)})
        }
        Change::PropertyRemoved { path, name, value } => json!({"change": "property-removed",
            "path": path, "name": name, "a": value_text(value)}),
        Change::PropertyAdded { path, name, value } => json!({"change": "property-added",
            "path": path, "name": name, "b": value_text(value)}),
        Change::PropertyChanged { path, name, a, b } => json!({"change": "property-changed",
            "path": path, "name": name, "a": value_text(a), "b": value_text(b)}),
        _ => json!({"change": "other"}),
    }
}

fn guest_json(g: &GuestChange) -> Json {
    serde_json::to_value(g).unwrap_or(Json::Null)
}
