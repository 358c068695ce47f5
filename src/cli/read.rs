//! `ppcpv inspect`, `ppcpv dump` and `ppcpv get`: reading any DTB. Argument parsing
//! and printing only; the work is in `ppcpv::fdt`.

use super::{CliError, print_json};
use crate::cli::fileio::Output;
use crate::cli::input::read_dtb;
use crate::cli::num::format_size;
use clap::{Args, ValueEnum};
use ppcpv::dt::checks::{Finding, HostVerdict, HypervisorReport, Severity, check_fdt_for};
use ppcpv::dt::host::Host;
use ppcpv::dt::hypervisor::Flavours;
use ppcpv::fdt::Fdt;
use ppcpv::fdt::dts::{DtsOptions, StringListStyle, write_dts};
use ppcpv::fdt::get::{GetError, ValueType, format_value};
use ppcpv::fdt::summary::{Summary, summarize};
use ppcpv::insn::Insn;
use ppcpv::insn::KnownSequence;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `ppcpv inspect`.
#[derive(Debug, Args)]
#[command(
    after_help = "The hosts section says, for each host kind, whether the hcall-instructions a Linux \
guest patches in (and the has-idle it honours) work there, or why the guest would crash or \
stall. With --host, every problem on that host is an error finding.\n\n\
Examples:\n  ppcpv inspect guest.dtb\n  ppcpv inspect --json guest.dtb | jq .hypervisor\n  ppcpv inspect --check guest.dtb              # exit 1 on an error finding (CI)\n  ppcpv inspect --check --host tcg guest.dtb   # will it boot under QEMU without KVM?"
)]
pub struct InspectArgs {
    /// The DTB to read, or DTS source (compiled first, as dtc would); `-` for
    /// standard input.
    pub file: PathBuf,
    /// The host the guest will run on: tcg (QEMU without KVM) or a KVM host kind
    /// (book3s-pr, e500v2, booke-hv). Words that would crash or stall the guest there
    /// become error findings.
    #[arg(long, value_name = "HOST", value_parser = parse_host)]
    pub host: Option<Host>,
    /// Print the report as JSON (64-bit values as "0x…" strings).
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when a finding has severity `error` (the report is still printed).
    #[arg(long)]
    pub check: bool,
}

/// How `dump` prints string lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum StringListArg {
    /// dtc 1.6.1 (Debian 12): `"a\0b"`.
    #[default]
    Dtc16,
    /// dtc 1.7.1 and later: `"a", "b"`.
    Dtc17,
}

/// Arguments of `ppcpv dump`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  ppcpv dump guest.dtb                 # same text as `dtc -I dtb -O dts guest.dtb`\n  ppcpv dump guest.dtb -o guest.dts\n  ppcpv dump --stringlist-style dtc17 guest.dtb"
)]
pub struct DumpArgs {
    /// The DTB to print, or DTS source (compiled first, as dtc would); `-` for
    /// standard input.
    pub file: PathBuf,
    /// Where to write the DTS (`-` = standard output; files are replaced atomically; not
    /// the input itself).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// How values holding several strings print: like dtc 1.6.1 or like dtc >= 1.7.1.
    #[arg(long, value_enum, default_value_t = StringListArg::Dtc16)]
    pub stringlist_style: StringListArg,
    /// Keep `name` properties that only repeat the node's name (dtc drops them).
    #[arg(long)]
    pub keep_name_properties: bool,
}

/// Arguments of `ppcpv get`.
#[derive(Debug, Args)]
#[command(
    after_help = "PATH is a node path (`/cpus/cpu@0`); the unit address may be left out when \
only one child has that name (`/soc/serial`), and a path may start with an alias (`serial0`).\n\n\
Without PROP (and without -p/-l) the node's property names are listed, then its children with a \
trailing `/`.\n\n\
Examples:\n  ppcpv get guest.dtb / model\n  ppcpv get -t x guest.dtb /hypervisor hcall-instructions\n  \
ppcpv get -l guest.dtb /cpus\n  ppcpv get guest.dtb /hypervisor"
)]
pub struct GetArgs {
    /// The DTB to read, or DTS source (compiled first, as dtc would); `-` for
    /// standard input.
    pub file: PathBuf,
    /// The node path.
    pub path: String,
    /// The property to print; without it the node is listed.
    pub prop: Option<String>,
    /// fdtget's type: [hh|b|h|l] then s (strings), i (signed), u (unsigned), x (hex) or
    /// r (raw bytes). Without it the type is guessed as fdtget does.
    #[arg(short = 't', long = "type", value_parser = parse_type)]
    pub ty: Option<ValueType>,
    /// List the node's property names, one per line (like fdtget -p).
    #[arg(short = 'p', long = "properties", conflicts_with_all = ["list", "prop"])]
    pub properties: bool,
    /// List the node's child names, one per line (like fdtget -l).
    #[arg(short = 'l', long = "list", conflicts_with = "prop")]
    pub list: bool,
    /// Print this instead of failing when the node or property does not exist.
    #[arg(short = 'd', long = "default")]
    pub default: Option<String>,
}

fn parse_host(s: &str) -> Result<Host, String> {
    s.parse()
        .map_err(|e: ppcpv::dt::host::UnknownHost| e.to_string())
}

fn parse_type(s: &str) -> Result<ValueType, String> {
    s.parse().map_err(|e: GetError| e.to_string())
}

/// The `inspect --json` document: the summary's fields, then the `/hypervisor` report
/// (null without a node), with the host verdicts and the findings moved one level up.
#[derive(Debug, Serialize)]
struct InspectJson<'a> {
    file: &'a str,
    #[serde(flatten)]
    summary: &'a Summary,
    hypervisor: Option<serde_json::Value>,
    /// The CPU the host verdicts were judged for, or null.
    guest_cpu: Option<&'static str>,
    /// `--host`, or null.
    host: Option<Host>,
    hosts: &'a [HostVerdict],
    findings: &'a [Finding],
}

/// Runs `ppcpv inspect`.
pub fn run_inspect(a: InspectArgs) -> Result<(), CliError> {
    let input = read_dtb(&a.file)?;
    let fdt =
        Fdt::new(&input).map_err(|e| CliError::failed(format!("{}: {e}", a.file.display())))?;
    // The /hypervisor verdict, the host verdicts and every finding come from
    // ppcpv::dt::checks.
    let report = check_fdt_for(&fdt, a.host);
    let summary = summarize(&fdt);
    let file = a.file.display().to_string();
    if a.json {
        // The report's own Serialize, less the findings printed beside it.
        let hypervisor = match report.path {
            None => None,
            Some(_) => {
                let mut v = serde_json::to_value(&report)?;
                if let Some(o) = v.as_object_mut() {
                    for moved in ["findings", "hosts", "host", "cpu"] {
                        o.remove(moved);
                    }
                }
                Some(v)
            }
        };
        print_json(&InspectJson {
            file: &file,
            summary: &summary,
            hypervisor,
            guest_cpu: report.cpu.map(|c| c.name()),
            host: report.host,
            hosts: &report.hosts,
            findings: &report.findings,
        })?;
    } else {
        print_inspect(&file, &summary, &report)?;
    }
    if a.check && report.worst() == Some(Severity::Error) {
        return Err(CliError::Silent);
    }
    Ok(())
}

fn size_text(bytes: u64) -> String {
    let s = format_size(bytes);
    if s.chars().all(|c| c.is_ascii_digit()) {
        format!("{bytes} bytes")
    } else {
        format!("{s}iB")
    }
}

/// Every string `inspect` prints that comes from the input (or its name) goes through
/// this: a `model` of `"\e]0;PWNED\a"` must not retitle the terminal.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    ppcpv::text::escape(s)
}

fn print_inspect(file: &str, s: &Summary, r: &HypervisorReport) -> Result<(), CliError> {
    let mut o = std::io::stdout().lock();
    let h = &s.header;
    writeln!(o, "file:         {}", esc(file))?;
    writeln!(
        o,
        "header:       version {} (last compatible {}), {} bytes, {}-byte header",
        h.version, h.last_comp_version, h.totalsize, s.header_size
    )?;
    match h.boot_cpuid_phys {
        Some(c) => writeln!(o, "boot cpu:     {c}")?,
        None => writeln!(o, "boot cpu:     (not in a version 1 header)")?,
    }
    let b = &s.blocks;
    writeln!(
        o,
        "blocks:       rsvmap @{:#x} ({} bytes), struct @{:#x} ({} bytes), strings @{:#x} ({} bytes)",
        b.rsvmap.offset,
        b.rsvmap.size,
        b.structure.offset,
        b.structure.size,
        b.strings.offset,
        b.strings.size
    )?;
    if s.reservations.is_empty() {
        writeln!(o, "reservations: none")?;
    }
    for (i, rv) in s.reservations.iter().enumerate() {
        let label = if i == 0 { "reservations:" } else { "" };
        writeln!(
            o,
            "{label:<13} {:#x} + {:#x} ({})",
            rv.address,
            rv.size,
            size_text(rv.size)
        )?;
    }
    writeln!(
        o,
        "tree:         {} nodes, {} properties, depth {}",
        s.nodes, s.properties, s.max_depth
    )?;
    writeln!(
        o,
        "model:        {}",
        esc(s.model.as_deref().unwrap_or("-"))
    )?;
    writeln!(
        o,
        "compatible:   {}",
        if s.compatible.is_empty() {
            "-".to_string()
        } else {
            esc(&s.compatible.join(", ")).into_owned()
        }
    )?;
    if s.memory.is_empty() {
        writeln!(o, "memory:       none")?;
    }
    for (i, m) in s.memory.iter().enumerate() {
        let label = if i == 0 { "memory:" } else { "" };
        let regs: Vec<String> = m
            .reg
            .iter()
            .map(|r| format!("{:#x} + {:#x}", r.address, r.size))
            .collect();
        let detail = m.problem.map_or_else(|| regs.join(", "), |p| p.to_string());
        writeln!(
            o,
            "{label:<13} {} {} ({})",
            esc(&m.path),
            esc(&detail),
            size_text(m.total)
        )?;
    }
    writeln!(o, "cpus:         {}", s.cpus.len())?;
    for c in &s.cpus {
        let reg: Vec<String> = c.reg.iter().map(|v| format!("{v:#x}")).collect();
        let threads = c
            .threads
            .map(|t| format!(", {t} threads"))
            .unwrap_or_default();
        writeln!(
            o,
            "              {} reg <{}>{threads}",
            esc(&c.path),
            reg.join(" ")
        )?;
    }
    print_hypervisor(&mut o, r)?;
    print_hosts(&mut o, r)?;
    if r.findings.is_empty() {
        writeln!(o, "findings:     none")?;
    }
    for (i, f) in r.findings.iter().enumerate() {
        let label = if i == 0 { "findings:" } else { "" };
        let at = f
            .path
            .as_deref()
            .map(|p| format!(" ({})", esc(p)))
            .unwrap_or_default();
        writeln!(
            o,
            "{label:<13} {}[{}]{at}: {}",
            f.severity,
            f.id,
            esc(&f.message.to_string())
        )?;
    }
    Ok(())
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn print_hypervisor(o: &mut impl Write, v: &HypervisorReport) -> Result<(), CliError> {
    let Some(path) = &v.path else {
        writeln!(o, "hypervisor:   none")?;
        return Ok(());
    };
    let flavour = v.flavour.map_or("unknown", Flavours::name);
    writeln!(o, "hypervisor:   {} ({flavour})", esc(path))?;
    writeln!(o, "  compatible: {}", esc(&v.compatible.join(", ")))?;
    match &v.hcall_instructions {
        None => writeln!(o, "  hcall-instructions: none")?,
        Some(h) => {
            let seq = v
                .sequence
                .map_or("not a known sequence", KnownSequence::name);
            writeln!(o, "  hcall-instructions: {} words, {seq}", h.words().len())?;
            for &w in h.words() {
                writeln!(o, "    {w:08x}  {}", Insn::decode(w))?;
            }
        }
    }
    writeln!(o, "  has-idle:   {}", yes_no(v.has_idle))?;
    let l = &v.linux;
    writeln!(
        o,
        "  Linux detects KVM:       {} ({})",
        yes_no(l.detects_kvm()),
        esc(&l.kvm.to_string())
    )?;
    writeln!(
        o,
        "  ePAPR hypercalls:        {} ({})",
        yes_no(l.epapr_hypercalls()),
        esc(&l.hypercalls.to_string())
    )?;
    writeln!(
        o,
        "  magic page:              {} ({})",
        yes_no(l.magic_page()),
        esc(&l.magic.to_string())
    )?;
    writeln!(
        o,
        "  EV_IDLE power save:      {} ({})",
        yes_no(l.ev_idle),
        esc(&l.idle.to_string())
    )?;
    Ok(())
}

/// One line per host kind: right, or the first thing that goes wrong there.
fn print_hosts(o: &mut impl Write, r: &HypervisorReport) -> Result<(), CliError> {
    let right: Vec<&str> = r.right_hosts().map(Host::name).collect();
    let cpu = r
        .cpu
        .map_or_else(|| "CPU unknown".to_string(), |c| format!("CPU {c}"));
    writeln!(
        o,
        "hosts:        right for {} ({cpu})",
        if right.is_empty() {
            "none".to_string()
        } else {
            right.join(", ")
        }
    )?;
    for v in &r.hosts {
        let chosen = if r.host == Some(v.host) {
            " (--host)"
        } else {
            ""
        };
        match v.problems.first() {
            None => writeln!(o, "  {:<11} right{chosen}", v.host.name())?,
            Some(p) => writeln!(
                o,
                "  {:<11} wrong{chosen}: {}",
                v.host.name(),
                esc(&p.to_string())
            )?,
        }
    }
    Ok(())
}

/// Runs `ppcpv dump`.
pub fn run_dump(a: DumpArgs) -> Result<(), CliError> {
    super::refuse_output_over_input(&a.file, &a.output)?;
    let input = read_dtb(&a.file)?;
    let fdt =
        Fdt::new(&input).map_err(|e| CliError::failed(format!("{}: {e}", a.file.display())))?;
    warn_dtc_errors(&a.file, &fdt);
    let opts = DtsOptions::new(
        match a.stringlist_style {
            StringListArg::Dtc16 => StringListStyle::Dtc16,
            StringListArg::Dtc17 => StringListStyle::Dtc17,
        },
        a.keep_name_properties,
    );
    let mut out = Output::create(&a.output)?;
    // dtc's exact bytes into files and pipes; names escaped on a terminal.
    let opts = opts.with_escaped_names(out.is_terminal());
    match write_dts(&fdt, &mut out, &opts) {
        // `ppcpv dump big.dtb | head`: the reader left; that is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        r => r?,
    }
    match out.finish() {
        Err(crate::cli::fileio::FileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(())
        }
        r => {
            r?;
            crate::cli::fileio::rule::announce(&a.output, None);
            Ok(())
        }
    }
}

/// A tree dtc refuses is printed anyway, as `dtc -f` prints it, and with the same
/// warnings on stderr: the violations of the first failing check (what `dtc -f`
/// lists), then that the output was forced.
fn warn_dtc_errors(file: &std::path::Path, fdt: &Fdt<'_>) {
    let all = ppcpv::fdt::lint::dtc_errors(fdt);
    if all.is_empty() {
        return;
    }
    let file = file.display();
    // Node paths and names from the input: escaped on a terminal, dtc's text elsewhere.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    for v in ppcpv::fdt::lint::as_dtc_reports(&all) {
        let v = v.to_string();
        let v = if tty {
            ppcpv::text::escape_lines(&v)
        } else {
            v.as_str().into()
        };
        eprintln!("ppcpv: warning: {file}: {v}");
    }
    eprintln!(
        "ppcpv: warning: {file}: input tree has errors, output forced (dtc refuses it without -f)"
    );
}

/// Runs `ppcpv get`.
pub fn run_get(a: GetArgs) -> Result<(), CliError> {
    let input = read_dtb(&a.file)?;
    let fdt =
        Fdt::new(&input).map_err(|e| CliError::failed(format!("{}: {e}", a.file.display())))?;
    let mut o = std::io::stdout().lock();
    // fdtget's exact bytes into files and pipes; on a terminal, names and values with
    // the characters a terminal acts on escaped.
    let tty = std::io::IsTerminal::is_terminal(&o);
    fn shown(tty: bool, s: &str) -> std::borrow::Cow<'_, str> {
        if tty {
            ppcpv::text::escape(s)
        } else {
            s.into()
        }
    }
    let Some(node) = fdt.find(&a.path) else {
        if let Some(d) = &a.default {
            writeln!(o, "{d}")?;
            return Ok(());
        }
        return Err(CliError::failed(format!(
            "node {} not found (or ambiguous: give the unit address)",
            a.path
        )));
    };
    if let Some(name) = &a.prop {
        let Some(prop) = node.property(name) else {
            if let Some(d) = &a.default {
                writeln!(o, "{d}")?;
                return Ok(());
            }
            return Err(CliError::failed(format!(
                "property {name} not found in {}",
                fdt.path_of(&node)
            )));
        };
        let text = format_value(prop.value, a.ty)
            .map_err(|e| CliError::failed(format!("{}:{name}: {e}", fdt.path_of(&node))))?;
        if tty {
            let mut shown = Vec::with_capacity(text.len());
            ppcpv::text::push_escaped(&mut shown, &text);
            o.write_all(&shown)?;
        } else {
            o.write_all(&text)?;
        }
        writeln!(o)?;
        return Ok(());
    }
    let both = !a.properties && !a.list;
    if a.properties || both {
        for p in node.properties() {
            writeln!(o, "{}", shown(tty, p.name))?;
        }
    }
    if a.list || both {
        for c in node.children() {
            let name = if c.name().is_empty() { "/" } else { c.name() };
            if both {
                writeln!(o, "{}/", shown(tty, name))?;
            } else {
                writeln!(o, "{}", shown(tty, name))?;
            }
        }
    }
    Ok(())
}
