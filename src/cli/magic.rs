//! `ppcpv magic`: the shared page's layout, and viewing or editing the page inside a raw
//! guest RAM image. Argument parsing only; the work is in `ppcpv::magic`.

use super::{BitsArg, CliError, EndianArg, parse_u64, print_json};
use crate::cli::num::Hex64;
use clap::{Args, Subcommand};
use ppcpv::Endian;
use ppcpv::hcall::{HcallRegs, HcallToken, MagicFeatures, MapMagicPage};
use ppcpv::magic::layout::{self, FIELDS, KVM_MAGIC_PAGE_EA32, KVM_MAGIC_PAGE_EA64};
use ppcpv::magic::{GuestImage, ImageOptions, MagicError, MagicPage, Selector};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Subcommands of `ppcpv magic`.
#[derive(Debug, Subcommand)]
pub enum MagicCommand {
    /// Print the layout of struct kvm_vcpu_arch_shared (offsets, sizes, gates, swaps).
    #[command(
        after_help = "Examples:\n  ppcpv magic layout\n  ppcpv magic layout --json\n  ppcpv magic layout --c-header --bits 32 > magic_offsets.h"
    )]
    Layout(LayoutArgs),
    /// Print every field of the magic page found in a raw guest RAM image.
    #[command(
        after_help = "Example:\n  ppcpv magic dump --mem guest.ram --gpa 0x7fff000 --base 0 --endian big"
    )]
    Dump(DumpArgs),
    /// Write fields of the magic page in a raw guest RAM image (all values are checked
    /// before any byte is written; the page is flushed to the file).
    #[command(
        after_help = "Example:\n  ppcpv magic set --mem guest.ram --gpa 0x7fff000 msr=0x8000000000001032 \\\n      'sr[3]=0x20000003' mas3=0x1f"
    )]
    Set(SetArgs),
    /// Convert the page's byte order in place: by default only the fields KVM swaps
    /// (kvmppc_swab_shared), with --full every field.
    #[command(
        after_help = "Example:\n  ppcpv magic swab --mem guest.ram --gpa 0x7fff000 --endian big   # big -> little"
    )]
    Swab(SwabArgs),
}

/// `ppcpv magic layout`.
#[derive(Debug, Args)]
pub struct LayoutArgs {
    /// Print a JSON array, one object per field.
    #[arg(long, conflicts_with_all = ["c_header", "rust"])]
    pub json: bool,
    /// Print a C header: the struct and KVM_MAGIC_OFF_* defines.
    #[arg(long, conflicts_with = "rust")]
    pub c_header: bool,
    /// Print Rust source: a #[repr(C)] struct with asserts and offset constants.
    #[arg(long)]
    pub rust: bool,
    /// 32: offsets and EAs of the word a 32-bit guest accesses (low word of a u64).
    #[arg(long, value_enum, default_value = "64")]
    pub bits: BitsArg,
}

/// Where the page is: the image, the GPA, how the image maps to guest addresses, and
/// how to decode it.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("where").required(true))]
pub struct PageArgs {
    /// Raw guest RAM image (guest physical memory as a flat file). A regular file, not
    /// `-`: only the page's 4 KiB window is mapped, so the image cannot come from a pipe.
    #[arg(long, value_name = "FILE")]
    pub mem: PathBuf,
    /// Guest physical address of the magic page (4 KiB aligned).
    #[arg(long, value_name = "ADDR", value_parser = parse_u64, group = "where")]
    pub gpa: Option<u64>,
    /// Instead of --gpa: r3 of the guest's MAP_MAGIC_PAGE call, decoded as KVM does (low
    /// 12 bits cleared; truncated to 32 bits with --bits 32, MSR[SF] = 0).
    #[arg(long, value_name = "R3", value_parser = parse_u64, group = "where")]
    pub map_r3: Option<u64>,
    /// Guest physical address of the image's first byte.
    #[arg(long, value_name = "GPA", value_parser = parse_u64, default_value = "0")]
    pub base: u64,
    /// Bytes to skip at the start of the file before guest RAM begins.
    #[arg(long, value_name = "N", value_parser = parse_u64, default_value = "0")]
    pub offset: u64,
    /// Byte order of the page (little only for Book3S-64 PR little-endian guests).
    #[arg(long, value_enum, default_value = "big")]
    pub endian: EndianArg,
    /// KVM_MAGIC_FEAT_* masks in force (r4 of the MAP call; mainline KVM answers 0x3).
    #[arg(long, value_name = "MASK", value_parser = parse_u64, default_value = "0x3")]
    pub features: u64,
}

/// `ppcpv magic dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    /// The page.
    pub page: PageArgs,
    /// 32: show what a 32-bit guest's lwz reads (the low word of each u64).
    #[arg(long, value_enum, default_value = "64")]
    pub bits: BitsArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ppcpv magic set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    /// The page.
    pub page: PageArgs,
    /// 32: write only the word a 32-bit guest's stw writes (the low word of a u64).
    #[arg(long, value_enum, default_value = "64")]
    pub bits: BitsArg,
    /// FIELD=VALUE pairs: C member names (msr, int_pending), sr[N], mas7, mas3.
    #[arg(required = true, value_name = "FIELD=VALUE")]
    pub assignments: Vec<String>,
}

/// `ppcpv magic swab`.
#[derive(Debug, Args)]
pub struct SwabArgs {
    #[command(flatten)]
    /// The page; `--endian` is its current order, converted to the other one.
    pub page: PageArgs,
    /// Swap every field of the struct, not just the ones KVM swaps.
    #[arg(long)]
    pub full: bool,
}

/// Runs `ppcpv magic`.
pub fn run(c: MagicCommand) -> Result<(), CliError> {
    match c {
        MagicCommand::Layout(a) => run_layout(&a),
        MagicCommand::Dump(a) => run_dump(&a),
        MagicCommand::Set(a) => run_set(&a),
        MagicCommand::Swab(a) => run_swab(&a),
    }
}

#[derive(Serialize)]
struct LayoutRow {
    name: &'static str,
    offset: usize,
    size: usize,
    count: usize,
    element_size: usize,
    feature: Option<&'static str>,
    swapped: bool,
    offset32: usize,
    ea: Hex64,
    note: &'static str,
}

fn run_layout(a: &LayoutArgs) -> Result<(), CliError> {
    let bits32 = a.bits == BitsArg::B32;
    let mut out = std::io::stdout().lock();
    if a.c_header {
        out.write_all(layout::c_header(bits32).as_bytes())?;
        return Ok(());
    }
    if a.rust {
        out.write_all(layout::rust_source(bits32).as_bytes())?;
        return Ok(());
    }
    let ea = |f: &layout::Field| {
        if bits32 {
            u64::from(KVM_MAGIC_PAGE_EA32) + f.offset32 as u64
        } else {
            KVM_MAGIC_PAGE_EA64 + f.offset as u64
        }
    };
    if a.json {
        let rows: Vec<LayoutRow> = FIELDS
            .iter()
            .map(|f| LayoutRow {
                name: f.name,
                offset: f.offset,
                size: f.size(),
                count: f.count,
                element_size: f.width.bytes(),
                feature: f.feature_name(),
                swapped: f.swapped,
                offset32: f.offset32,
                ea: Hex64(ea(f)),
                note: f.note,
            })
            .collect();
        return print_json(&rows);
    }
    let ea_head = if bits32 { "ea32" } else { "ea" };
    writeln!(
        out,
        "{:<12} {:>6} {:>4} {:>8} {:<7} {:<28} {ea_head}",
        "field", "offset", "size", "offset32", "swapped", "feature"
    )?;
    for f in &FIELDS {
        let name = if f.count > 1 {
            format!("{}[{}]", f.name, f.count)
        } else {
            f.name.to_string()
        };
        let ea = if bits32 {
            format!("{:#010x}", ea(f))
        } else {
            format!("{:#018x}", ea(f))
        };
        writeln!(
            out,
            "{name:<12} {:>6} {:>4} {:>8} {:<7} {:<28} {ea}",
            format!("{:#05x}", f.offset),
            f.size(),
            format!("{:#05x}", f.offset32),
            if f.swapped { "yes" } else { "no" },
            f.feature_name().unwrap_or("-"),
        )?;
    }
    writeln!(
        out,
        "sizeof = {} (0x{:x}) in a {}-byte page; bytes 0x{:x}..0x{:x} unused by mainline KVM",
        layout::SHARED_SIZE,
        layout::SHARED_SIZE,
        layout::PAGE_SIZE,
        layout::SHARED_SIZE,
        layout::PAGE_SIZE
    )?;
    Ok(())
}

/// The page's GPA: `--gpa` as given, or the PA of a MAP request whose r3 is `--map-r3`
/// (`MapMagicPage::from_regs`: in 32-bit mode the parameter is truncated to 32 bits, then
/// the low 12 bits are cleared, as `arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)` does).
fn page_gpa(p: &PageArgs, bits: BitsArg) -> u64 {
    match (p.gpa, p.map_r3) {
        (Some(gpa), _) => gpa,
        (None, Some(r3)) => {
            let regs = HcallRegs::new(
                HcallToken::kvm(4),
                if bits == BitsArg::B64 {
                    ppcpv::hcall::GuestWidth::Bits64
                } else {
                    ppcpv::hcall::GuestWidth::Bits32
                },
            )
            .with_r3_r4(r3, 0);
            MapMagicPage::from_regs(&regs).pa
        }
        (None, None) => 0, // clap requires one of the two
    }
}

fn open(p: &PageArgs, writable: bool) -> Result<GuestImage, CliError> {
    // `-` means stdin elsewhere; here it used to be looked up as a file named "-" and fail
    // with a puzzling "No such file". Say what is wrong instead (a file named `-` is `./-`).
    if p.mem.as_os_str() == crate::cli::fileio::STDIO {
        return Err(CliError::usage(
            "--mem needs a regular file: a guest RAM image is mapped page by page, so it cannot be read from stdin (-)",
        ));
    }
    let opts = ImageOptions::new()
        .with_base(p.base)
        .with_offset(p.offset)
        .writable(writable);
    Ok(GuestImage::open(&p.mem, opts)?)
}

#[derive(Serialize)]
struct DumpField {
    name: Selector,
    offset: usize,
    size: usize,
    /// `null` when the features in force do not include the field's mask.
    value: Option<Hex64>,
    feature: Option<&'static str>,
}

#[derive(Serialize)]
struct DumpReport {
    gpa: Hex64,
    file_offset: Hex64,
    endian: &'static str,
    features: Hex64,
    bits: u32,
    fields: Vec<DumpField>,
}

fn run_dump(a: &DumpArgs) -> Result<(), CliError> {
    let img = open(&a.page, false)?;
    let gpa = page_gpa(&a.page, a.bits);
    let file_offset = img.file_position(gpa)?;
    let page = img.page(gpa)?;
    let endian: Endian = a.page.endian.into();
    let features = MagicFeatures(a.page.features);
    let view = page.view(endian, features);
    let bits32 = a.bits == BitsArg::B32;
    let fields: Vec<DumpField> = Selector::all()
        .map(|sel| dump_field(&view, sel, bits32))
        .collect();
    if a.json {
        return print_json(&DumpReport {
            gpa: Hex64(gpa),
            file_offset: Hex64(file_offset),
            endian: endian.name(),
            features: Hex64(features.bits()),
            bits: a.bits.bits(),
            fields,
        });
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "magic page at GPA {:#x} (file offset {file_offset:#x}), {endian}-endian, features {:#x}{}",
        gpa,
        features.bits(),
        if bits32 { ", 32-bit guest view" } else { "" }
    )?;
    for f in &fields {
        let value = match (&f.value, f.feature) {
            (Some(v), _) => {
                let digits = f.size * 2;
                format!("{:#0w$x}", v.0, w = digits + 2)
            }
            (None, Some(feat)) => format!("(not present: needs {feat})"),
            (None, None) => "-".to_string(),
        };
        writeln!(out, "{:<12} {:#05x}  {value}", f.name, f.offset)?;
    }
    if !bits32 && let (Ok(m7), Ok(m3)) = (view.mas7(), view.mas3()) {
        writeln!(
            out,
            "{:<12} {:>5}  MAS7 {m7:#010x}  MAS3 {m3:#010x}",
            "", ""
        )?;
    }
    Ok(())
}

fn dump_field(view: &MagicPage<'_>, sel: Selector, bits32: bool) -> DumpField {
    let f = sel.field();
    let (offset, size, value) = if bits32 {
        (
            sel.offset32(),
            4,
            view.get32(sel).ok().map(|v| Hex64(u64::from(v))),
        )
    } else {
        (
            sel.offset(),
            (sel.bits() / 8) as usize,
            view.get(sel).ok().map(Hex64),
        )
    };
    DumpField {
        name: sel,
        offset,
        size,
        value,
        feature: f.feature_name(),
    }
}

fn usage(e: MagicError) -> CliError {
    CliError::usage(e.to_string())
}

fn run_set(a: &SetArgs) -> Result<(), CliError> {
    let features = MagicFeatures(a.page.features);
    let bits32 = a.bits == BitsArg::B32;
    // Parse and check every assignment before the image is even opened.
    let mut plan = Vec::with_capacity(a.assignments.len());
    for text in &a.assignments {
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("'{text}' is not FIELD=VALUE")))?;
        let sel = Selector::parse(name).map_err(|e| CliError::usage(e.to_string()))?;
        let value =
            ppcpv::num::parse_u64(value).map_err(|e| CliError::usage(format!("{name}: {e}")))?;
        if bits32 && value > u64::from(u32::MAX) {
            return Err(usage(MagicError::TooWide {
                field: sel,
                value,
                bits: 32,
            }));
        }
        // Last-one-wins would hide a typo; `hcall call` refuses a repeated register too.
        if plan.iter().any(|&(seen, _)| seen == sel) {
            return Err(CliError::usage(format!("{sel} is given twice")));
        }
        plan.push((sel, value));
    }
    let img = open(&a.page, true)?;
    let mut page = img.page_mut(page_gpa(&a.page, a.bits))?;
    let mut view = page.view_mut(a.page.endian.into(), features);
    for &(sel, value) in &plan {
        if bits32 {
            view.check(sel, 0).map_err(usage)?;
        } else {
            view.check(sel, value).map_err(usage)?;
        }
    }
    for &(sel, value) in &plan {
        if bits32 {
            let word = u32::try_from(value).unwrap_or(u32::MAX); // checked above
            view.set32(sel, word).map_err(usage)?;
        } else {
            view.set(sel, value).map_err(usage)?;
        }
    }
    page.flush()?;
    // The one success line every command writes for a file it changed.
    let set: Vec<String> = plan
        .iter()
        .map(|&(sel, value)| format!("{sel} = {value:#x}"))
        .collect();
    crate::cli::fileio::rule::announce(
        &a.page.mem,
        Some(&format!(
            "{} (GPA {:#x})",
            set.join(", "),
            page_gpa(&a.page, a.bits)
        )),
    );
    Ok(())
}

fn run_swab(a: &SwabArgs) -> Result<(), CliError> {
    let img = open(&a.page, true)?;
    let gpa = page_gpa(&a.page, BitsArg::B64);
    let mut page = img.page_mut(gpa)?;
    let from: Endian = a.page.endian.into();
    let to = from.swapped();
    let mut view = page.view_mut(from, MagicFeatures(a.page.features));
    if a.full {
        view.convert(to);
    } else {
        view.swab_kvm(to);
    }
    page.flush()?;
    let what = if a.full {
        "every field"
    } else {
        "the fields kvmppc_swab_shared swaps"
    };
    crate::cli::fileio::rule::announce(
        &a.page.mem,
        Some(&format!("GPA {gpa:#x}: {from} -> {to} ({what})")),
    );
    Ok(())
}
