//! `ppcpv hcall`: the hypercall ABI from the command line. Parses arguments, calls
//! `ppcpv::hcall`, prints text or `--json`.

use super::{BitsArg, CliError, parse_u64, print_json};
use crate::cli::num::Hex64;
use clap::{Args, Subcommand, ValueEnum};
use ppcpv::hcall::{
    Arch, CallingConvention, GuestWidth, HcallEffect, HcallRegs, HcallToken, HostProfile,
    Hypercall, KvmFeature, KvmFeatures, MagicFeatures, ReturnCode, ScOutcome, SyscallReason,
    Vendor, abi, registry,
};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;

/// Subcommands of `ppcpv hcall`.
#[derive(Debug, Subcommand)]
pub enum HcallCommand {
    /// The registry: every KVM_HC_*, ePAPR EV_* and Freescale FH_* hypercall.
    #[command(after_help = "Examples:\n  ppcpv hcall list --arch ppc\n  ppcpv hcall list --json")]
    List(ListArgs),
    /// One hypercall in full: token, registers in and out, notes and sources.
    #[command(after_help = "\
NAME is a registry name, in any case (KVM_HC_FEATURES, ev_idle), or a token.

Examples:
  ppcpv hcall show KVM_HC_PPC_MAP_MAGIC_PAGE
  ppcpv hcall show ev_byte_channel_send
  ppcpv hcall show 0x00010010 --json")]
    Show(ShowArgs),
    /// Build a token (vendor << 16 | number) or decode one.
    #[command(
        after_help = "Examples:\n  ppcpv hcall token --vendor kvm 3           # 0x002a0003\n  ppcpv hcall token ev_idle                  # 0x00010010\n  ppcpv hcall token --decode 0x002a0003\n  ppcpv hcall token --decode KVM_HC_FEATURES\n  ppcpv hcall token --decode 0x80010010 --topaz"
    )]
    Token(TokenArgs),
    /// The calling conventions: registers, clobbers and trapping instruction per architecture.
    Abi(AbiArgs),
    /// The return codes: ePAPR EV_* (PowerPC r3) and generic KVM_E*.
    Codes(CodesArgs),
    /// Name the bits of a KVM_HC_FEATURES or MAP_MAGIC_PAGE answer, or show what a host offers.
    #[command(
        after_help = "Examples:\n  ppcpv hcall features 0x2           # KVM_FEATURE_* bits, r4 of KVM_HC_FEATURES\n  ppcpv hcall features --magic 0x3   # KVM_MAGIC_FEAT_* masks, r4 of MAP_MAGIC_PAGE\n  ppcpv hcall features --host booke-hv"
    )]
    Features(FeaturesArgs),
    /// Run the host responder once: what mainline KVM answers to a guest's hypercall.
    #[command(
        after_help = "r11 takes a token or a hypercall name (r11=KVM_HC_FEATURES, any case).\n\nExamples:\n  ppcpv hcall call --host book3s-pr --reg r11=KVM_HC_FEATURES\n  ppcpv hcall call --host e500v2 --bits 32 --reg r11=0x2a0004 \\\n      --reg r3=0xfffff000 --reg r4=0xfffff001\n  ppcpv hcall call --host book3s-pr --msr 0x8000000000000000 --reg r0=0 \\\n      --reg r11=0x2a0003              # r0 is not KVM_SC_MAGIC_R0: a system call"
    )]
    Call(CallArgs),
}

/// Which architecture to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ArchArg {
    /// PowerPC (includes the ePAPR and Freescale vendor hypercalls).
    Ppc,
    /// x86.
    X86,
    /// s390.
    S390,
    /// MIPS.
    Mips,
    /// Every architecture.
    #[default]
    All,
}

impl ArchArg {
    fn arch(self) -> Option<Arch> {
        match self {
            ArchArg::Ppc => Some(Arch::Ppc),
            ArchArg::X86 => Some(Arch::X86),
            ArchArg::S390 => Some(Arch::S390),
            ArchArg::Mips => Some(Arch::Mips),
            ArchArg::All => None,
        }
    }
}

/// `--host`: the KVM host model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostArg {
    /// Book3S PR KVM.
    #[value(name = "book3s-pr")]
    Book3sPr,
    /// BookE PR KVM on e500v2 (legacy; may be removed from current kernels).
    #[value(name = "e500v2")]
    E500v2,
    /// BookE HV KVM (e500mc, e5500, e6500).
    #[value(name = "booke-hv")]
    BookeHv,
}

impl From<HostArg> for HostProfile {
    fn from(h: HostArg) -> Self {
        match h {
            HostArg::Book3sPr => HostProfile::Book3sPr,
            HostArg::E500v2 => HostProfile::E500v2,
            HostArg::BookeHv => HostProfile::BookeHv,
        }
    }
}

/// Arguments of `hcall list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only hypercalls used on this architecture.
    #[arg(long, value_enum, default_value_t = ArchArg::All)]
    pub arch: ArchArg,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `hcall token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// A hypercall number (decimal or 0x hex, 0-0xffff) or a registry name such as EV_IDLE.
    #[arg(required_unless_present = "decode", conflicts_with = "decode")]
    pub number: Option<String>,
    /// The vendor for a numeric NUMBER: kvm, epapr, fsl, ibm, ghs, enea, wr, amcc, local, or an ID.
    #[arg(long, default_value = "kvm")]
    pub vendor: String,
    /// Decode this 32-bit token (or the token of a hypercall name) instead of building
    /// one.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    pub decode: Option<u32>,
    /// With --decode: also show how the Topaz hypervisor reads it (bit 31 masked, vendor 0 = ePAPR).
    #[arg(long, requires = "decode")]
    pub topaz: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `hcall show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A registry name (any case) or a token.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `hcall abi`.
#[derive(Debug, Args)]
pub struct AbiArgs {
    /// Only this architecture.
    #[arg(long, value_enum, default_value_t = ArchArg::All)]
    pub arch: ArchArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `hcall codes`.
#[derive(Debug, Args)]
pub struct CodesArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `hcall features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// The r4 value to decode (decimal or 0x hex).
    #[arg(value_parser = parse_u64, required_unless_present = "host", conflicts_with = "host")]
    pub value: Option<u64>,
    /// VALUE is MAP_MAGIC_PAGE's r4 (KVM_MAGIC_FEAT_* masks), not KVM_HC_FEATURES' r4.
    #[arg(long)]
    pub magic: bool,
    /// The r3 status that came with a KVM_HC_FEATURES r4: nonzero means no features, as in Linux.
    #[arg(long, value_parser = parse_u64, conflicts_with = "magic")]
    pub r3: Option<u64>,
    /// Show what this host model offers instead.
    #[arg(long, value_enum, conflicts_with_all = ["magic", "r3"])]
    pub host: Option<HostArg>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `hcall call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The KVM host model that answers.
    #[arg(long, value_enum)]
    pub host: HostArg,
    /// A guest register at the exit, rN=VALUE (N 3..11, or 0 with --msr). r11, the
    /// token, is required and may be a hypercall name (r11=KVM_HC_FEATURES).
    #[arg(long = "reg", value_name = "rN=VALUE", value_parser = parse_reg)]
    pub regs: Vec<(u32, u64)>,
    /// Guest mode: 32 clears the MSR SF bit (parameters are truncated to 32 bits), 64 sets it.
    #[arg(long, value_enum, default_value_t = BitsArg::B64, conflicts_with = "msr")]
    pub bits: BitsArg,
    /// Model the whole trap with the guest's MSR: first decide whether the sc is a
    /// hypercall (PR hosts: MSR[PR] clear and r0 = KVM_SC_MAGIC_R0 0x4b564d21, which r0
    /// defaults to; BookE HV: MSR[PR] clear), then answer with the width the host reads.
    #[arg(long, value_parser = parse_u64)]
    pub msr: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// clap value parser for `--reg rN=VALUE`.
fn parse_reg(s: &str) -> Result<(u32, u64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not rN=VALUE (for example r11=0x2a0003)"))?;
    let digits = name
        .strip_prefix('r')
        .or_else(|| name.strip_prefix('R'))
        .unwrap_or(name);
    let n: u32 = digits
        .parse()
        .ok()
        .filter(|n| *n == 0 || (3..=11).contains(n))
        .ok_or_else(|| format!("'{name}' is not a hypercall register (use r3 to r11, or r0)"))?;
    let v = match ppcpv::num::parse_u64(value) {
        Ok(v) => v,
        // r11 also takes a name; KVM reads its low 32 bits, so wider numbers stay.
        Err(ppcpv::num::NumError::Invalid(_)) if n == 11 => u64::from(parse_token(value)?),
        Err(e) => return Err(e.to_string()),
    };
    Ok((n, v))
}

/// clap value parser for a token: a 32-bit number, or a registry name (any case) for
/// its token.
fn parse_token(s: &str) -> Result<u32, String> {
    match ppcpv::num::parse_u32(s) {
        Ok(v) => Ok(v),
        Err(e @ ppcpv::num::NumError::TooWide { .. }) => Err(e.to_string()),
        Err(_) => registry::find_by_name(s)
            .map(|h| h.token().raw())
            .ok_or_else(|| {
                format!(
                    "'{s}' is neither a number nor a known hypercall name (see `ppcpv hcall list`)"
                )
            }),
    }
}

/// Runs `ppcpv hcall`.
pub fn run(c: HcallCommand) -> Result<(), CliError> {
    match c {
        HcallCommand::List(a) => list(&a),
        HcallCommand::Show(a) => show(&a),
        HcallCommand::Token(a) => token(&a),
        HcallCommand::Abi(a) => abi_cmd(&a),
        HcallCommand::Codes(a) => codes(&a),
        HcallCommand::Features(a) => features(&a),
        HcallCommand::Call(a) => call(&a),
    }
}

/// Writes text to stdout (errors, such as a closed pipe, are returned, never a panic).
fn emit(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn token_str(t: HcallToken) -> String {
    t.to_string()
}

fn vendor_str(v: Vendor) -> String {
    match v.short_name() {
        Some(s) => s.to_string(),
        None => v.id().to_string(),
    }
}

#[derive(Serialize)]
struct HypercallJson {
    name: &'static str,
    value: u16,
    vendor: String,
    vendor_id: u16,
    token: String,
    arch: Vec<&'static str>,
    status: &'static str,
    purpose: &'static str,
    note: &'static str,
    source: &'static str,
}

impl From<&Hypercall> for HypercallJson {
    fn from(h: &Hypercall) -> Self {
        HypercallJson {
            name: h.name,
            value: h.number,
            vendor: vendor_str(h.vendor),
            vendor_id: h.vendor.id(),
            token: token_str(h.token()),
            arch: h.arch.iter().map(|a| a.name()).collect(),
            status: h.status.name(),
            purpose: h.purpose,
            note: h.note,
            source: h.source,
        }
    }
}

fn list(a: &ListArgs) -> Result<(), CliError> {
    let rows: Vec<&Hypercall> = registry::all()
        .filter(|h| a.arch.arch().is_none_or(|arch| h.on(arch)))
        .collect();
    if a.json {
        let v: Vec<HypercallJson> = rows.into_iter().map(HypercallJson::from).collect();
        return print_json(&v);
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:>5}  {:<6} {:<10}  {:<5} {:<10} PURPOSE",
        "NAME", "VALUE", "VENDOR", "TOKEN", "ARCH", "STATUS"
    );
    for h in rows {
        let arch: Vec<&str> = h.arch.iter().map(|a| a.name()).collect();
        let _ = writeln!(
            s,
            "{:<28} {:>5}  {:<6} {:<10}  {:<5} {:<10} {}",
            h.name,
            h.number,
            vendor_str(h.vendor),
            token_str(h.token()),
            arch.join(","),
            h.status.name(),
            h.purpose
        );
    }
    emit(&s)
}

#[derive(Serialize)]
struct TokenJson {
    token: String,
    vendor: String,
    vendor_id: u16,
    vendor_name: &'static str,
    number: u16,
    name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    topaz: Option<TopazJson>,
}

#[derive(Serialize)]
struct TopazJson {
    vendor_id: u16,
    number: u16,
    table: &'static str,
    name: Option<&'static str>,
}

fn token(a: &TokenArgs) -> Result<(), CliError> {
    let t = match (a.decode, &a.number) {
        (Some(raw), _) => HcallToken::from_raw(raw),
        (None, Some(text)) => build_token(text, &a.vendor)?,
        (None, None) => return Err(CliError::usage("give a NUMBER or --decode TOKEN")),
    };
    let topaz = a.topaz.then(|| {
        let d = t.topaz();
        TopazJson {
            vendor_id: d.vendor_id,
            number: d.number,
            table: d.table.name(),
            name: d.lookup().map(|h| h.name),
        }
    });
    let j = TokenJson {
        token: token_str(t),
        vendor: vendor_str(t.vendor()),
        vendor_id: t.vendor_id(),
        vendor_name: t.vendor().description(),
        number: t.number(),
        name: t.name(),
        topaz,
    };
    if a.json {
        return print_json(&j);
    }
    if a.decode.is_none() {
        return emit(&format!("{}\n", j.token));
    }
    let mut s = String::new();
    let _ = writeln!(s, "token:  {}", j.token);
    let macro_name = t
        .vendor()
        .macro_name()
        .map(|m| format!(", {m}"))
        .unwrap_or_default();
    let _ = writeln!(s, "vendor: {} ({}{macro_name})", j.vendor_id, j.vendor_name);
    let _ = writeln!(s, "number: {}", j.number);
    let _ = writeln!(s, "name:   {}", j.name.unwrap_or("(not a known hypercall)"));
    if let Some(tz) = &j.topaz {
        let _ = writeln!(
            s,
            "topaz:  vendor {} number {} -> {} table: {}",
            tz.vendor_id,
            tz.number,
            tz.table,
            tz.name.unwrap_or("(not a known hypercall)")
        );
    }
    emit(&s)
}

#[derive(Serialize)]
struct ShowJson {
    #[serde(flatten)]
    entry: HypercallJson,
    call: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    registers: Option<&'static ppcpv::hcall::Registers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kvm_answer: Option<String>,
}

/// What mainline PowerPC KVM answers to this call (the Book3S PR responder; every
/// profile answers the same codes, see `ppcpv::hcall::host`).
fn kvm_answer(h: &Hypercall) -> Option<String> {
    if !h.on(Arch::Ppc) {
        return None;
    }
    let out = HostProfile::Book3sPr.respond(&HcallRegs::new(h.token(), GuestWidth::Bits64));
    Some(match registry::epapr_code_name(out.r3) {
        Some("EV_UNIMPLEMENTED") => {
            "not implemented: r3 = 12 (EV_UNIMPLEMENTED) (arch/powerpc/kvm/powerpc.c, kvmppc_kvm_pv)"
                .to_owned()
        }
        _ => "implemented (arch/powerpc/kvm/powerpc.c, kvmppc_kvm_pv)".to_owned(),
    })
}

fn show(a: &ShowArgs) -> Result<(), CliError> {
    let h = registry::find_by_name(&a.name)
        .or_else(|| {
            let t = ppcpv::num::parse_u32(&a.name).ok()?;
            HcallToken::from_raw(t)
                .name()
                .and_then(registry::find_by_name)
        })
        .ok_or_else(|| {
            CliError::usage(format!(
                "'{}' is not a known hypercall name or token (see `ppcpv hcall list`)",
                a.name
            ))
        })?;
    let j = ShowJson {
        entry: HypercallJson::from(h),
        call: h.number_register(),
        registers: h.registers(),
        kvm_answer: kvm_answer(h),
    };
    if a.json {
        return print_json(&j);
    }
    let mut s = String::new();
    let e = &j.entry;
    let _ = writeln!(s, "name:     {}", e.name);
    let _ = writeln!(
        s,
        "token:    {} (vendor {} {}, number {})",
        e.token, e.vendor_id, e.vendor, e.value
    );
    let _ = writeln!(s, "arch:     {}", e.arch.join(", "));
    let _ = writeln!(s, "status:   {}", e.status);
    let _ = writeln!(s, "purpose:  {}", e.purpose);
    let _ = writeln!(s, "call:     {}", j.call);
    let width = |regs: &[ppcpv::hcall::Reg]| regs.iter().map(|r| r.reg.len()).max().unwrap_or(0);
    match j.registers {
        Some(r) => {
            let w = width(r.inputs).max(width(r.outputs));
            for (title, regs) in [("args:", r.inputs), ("returns:", r.outputs)] {
                if regs.is_empty() {
                    let _ = writeln!(s, "{title:<9} none");
                }
                for (i, reg) in regs.iter().enumerate() {
                    let head = if i == 0 { title } else { "" };
                    let _ = writeln!(s, "{head:<9} {:<w$}  {}", reg.reg, reg.meaning);
                }
            }
        }
        None => {
            let _ = writeln!(
                s,
                "args:     not described (no Linux wrapper or documentation gives the registers)"
            );
        }
    }
    if let Some(k) = &j.kvm_answer {
        let _ = writeln!(s, "kvm:      {k}");
    }
    if !e.note.is_empty() {
        let _ = writeln!(s, "note:     {}", e.note);
    }
    let _ = writeln!(s, "source:   {}", e.source);
    if let Some(r) = j.registers
        && r.source != e.source
    {
        let _ = writeln!(s, "          registers: {}", r.source);
    }
    emit(&s)
}

fn build_token(text: &str, vendor: &str) -> Result<HcallToken, CliError> {
    if let Ok(n) = ppcpv::num::parse_u64(text) {
        let number = u16::try_from(n).map_err(|_| {
            CliError::usage(format!(
                "hypercall number {text} does not fit in 16 bits (0-0xffff)"
            ))
        })?;
        let v = Vendor::parse(vendor).ok_or_else(|| {
            CliError::usage(format!(
                "unknown vendor '{vendor}' (use kvm, epapr, fsl, ibm, ghs, enea, wr, amcc, local or an ID 0-0xffff)"
            ))
        })?;
        return Ok(HcallToken::new(v, number));
    }
    registry::find_by_name(text)
        .map(Hypercall::token)
        .ok_or_else(|| {
            CliError::usage(format!(
                "'{text}' is neither a number nor a known hypercall name (see `ppcpv hcall list`)"
            ))
        })
}

fn list_or(items: &[&str], empty: &str) -> String {
    if items.is_empty() {
        empty.to_string()
    } else {
        items.join(", ")
    }
}

fn abi_cmd(a: &AbiArgs) -> Result<(), CliError> {
    let convs: Vec<&CallingConvention> = match a.arch.arch() {
        Some(arch) => vec![abi::convention(arch)],
        None => abi::CONVENTIONS.to_vec(),
    };
    if a.json {
        return print_json(&convs);
    }
    let mut s = String::new();
    for (i, c) in convs.into_iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        let _ = writeln!(s, "{} ({})", c.arch.description(), c.arch.name());
        let _ = writeln!(s, "  instruction: {}", c.instruction);
        let _ = writeln!(s, "  number:      {}", c.number);
        let _ = writeln!(s, "  arguments:   {}", list_or(c.args, "none"));
        let _ = writeln!(s, "  return:      {}", c.ret);
        let _ = writeln!(
            s,
            "  outputs:     {}",
            list_or(c.outputs, "none besides the return value")
        );
        let _ = writeln!(s, "  clobbers:    {}", list_or(c.clobbers, "none stated"));
        let _ = writeln!(s, "  notes:       {}", c.notes);
        let _ = writeln!(s, "  source:      {}", c.source);
    }
    emit(&s)
}

fn codes(a: &CodesArgs) -> Result<(), CliError> {
    let rows: Vec<&ReturnCode> = registry::all_codes().collect();
    if a.json {
        return print_json(&rows);
    }
    let mut s = String::new();
    let _ = writeln!(s, "{:<20} {:>5}  {:<6} MEANING", "NAME", "VALUE", "FAMILY");
    for c in rows {
        let _ = writeln!(
            s,
            "{:<20} {:>5}  {:<6} {}",
            c.name,
            c.value,
            c.family.name(),
            c.meaning
        );
    }
    emit(&s)
}

#[derive(Serialize)]
struct BitJson {
    bit: u32,
    mask: Hex64,
    name: Option<&'static str>,
    meaning: Option<&'static str>,
}

#[derive(Serialize)]
struct FeaturesJson {
    kind: &'static str,
    value: Hex64,
    bits: Vec<BitJson>,
    unknown: Hex64,
}

fn kvm_bits(f: KvmFeatures) -> FeaturesJson {
    FeaturesJson {
        kind: "KVM_FEATURE",
        value: Hex64(f.bits()),
        bits: f
            .iter()
            .map(|b: KvmFeature| BitJson {
                bit: b.0,
                mask: Hex64(b.mask()),
                name: b.name(),
                meaning: b.meaning(),
            })
            .collect(),
        unknown: Hex64(f.unknown()),
    }
}

fn magic_bits(m: MagicFeatures) -> FeaturesJson {
    FeaturesJson {
        kind: "KVM_MAGIC_FEAT",
        value: Hex64(m.bits()),
        bits: m
            .iter()
            .map(|b| BitJson {
                bit: b.bits().trailing_zeros(),
                mask: Hex64(b.bits()),
                name: b.name(),
                meaning: b.meaning(),
            })
            .collect(),
        unknown: Hex64(m.unknown()),
    }
}

fn write_bits(s: &mut String, f: &FeaturesJson) {
    if f.bits.is_empty() {
        let _ = writeln!(s, "  (no bits set)");
    }
    for b in &f.bits {
        let _ = writeln!(
            s,
            "  bit {:<2} mask {:<10} {}{}",
            b.bit,
            b.mask.to_string(),
            b.name.unwrap_or("(unknown)"),
            b.meaning.map(|m| format!(": {m}")).unwrap_or_default()
        );
    }
}

#[derive(Serialize)]
struct HostJson {
    host: &'static str,
    description: &'static str,
    legacy: bool,
    features: FeaturesJson,
    features_r3: Hex64,
    magic_page_supported: bool,
    map_magic_page: FeaturesJson,
    map_r3: Hex64,
    ev_idle: bool,
    hcall_instructions: Vec<String>,
}

fn features(a: &FeaturesArgs) -> Result<(), CliError> {
    if let Some(h) = a.host {
        return host_features(HostProfile::from(h), a.json);
    }
    let value = a
        .value
        .ok_or_else(|| CliError::usage("give a VALUE to decode or --host PROFILE"))?;
    let (title, f) = if a.magic {
        (
            "KVM_HC_PPC_MAP_MAGIC_PAGE r4 (KVM_MAGIC_FEAT_* masks)",
            magic_bits(MagicFeatures::from_map_r4(value)),
        )
    } else {
        let r3 = a.r3.unwrap_or(0);
        (
            "KVM_HC_FEATURES r4 (KVM_FEATURE_* bit numbers)",
            kvm_bits(KvmFeatures::from_hcall(r3, value)),
        )
    };
    if a.json {
        return print_json(&f);
    }
    let mut s = String::new();
    let _ = writeln!(s, "{title} = {value:#x}");
    if let Some(r3) = a.r3.filter(|&r3| r3 != 0) {
        let _ = writeln!(
            s,
            "  r3 = {r3:#x} is not 0: a Linux guest takes this as no features"
        );
    }
    write_bits(&mut s, &f);
    if f.unknown.0 != 0 {
        let _ = writeln!(s, "  unknown bits kept: {}", f.unknown);
    }
    emit(&s)
}

fn host_features(p: HostProfile, json: bool) -> Result<(), CliError> {
    // Ask the responder itself, so the listing is what `hcall call` would answer.
    let feat = p.respond(&HcallRegs::new(
        ppcpv::hcall::host::TOKEN_FEATURES,
        GuestWidth::Bits64,
    ));
    let map = p.respond(&HcallRegs::new(
        ppcpv::hcall::host::TOKEN_MAP_MAGIC_PAGE,
        GuestWidth::Bits64,
    ));
    let j = HostJson {
        host: p.name(),
        description: p.description(),
        legacy: p.is_legacy(),
        features: kvm_bits(KvmFeatures::from_hcall(feat.r3, feat.r4)),
        features_r3: Hex64(feat.r3),
        magic_page_supported: p.supports_magic_page(),
        map_magic_page: magic_bits(MagicFeatures::from_map_r4(map.r4)),
        map_r3: Hex64(map.r3),
        ev_idle: p.has_idle(),
        hcall_instructions: p
            .hcall_instructions()
            .iter()
            .map(|w| format!("{w:#010x}"))
            .collect(),
    };
    if json {
        return print_json(&j);
    }
    let mut s = String::new();
    let _ = writeln!(s, "host: {}: {}", j.host, j.description);
    let _ = writeln!(
        s,
        "KVM_HC_FEATURES: r3 = {}, r4 = {}",
        j.features_r3, j.features.value
    );
    write_bits(&mut s, &j.features);
    let _ = writeln!(
        s,
        "KVM_HC_PPC_MAP_MAGIC_PAGE: r3 = {}, r4 = {}",
        j.map_r3, j.map_magic_page.value
    );
    write_bits(&mut s, &j.map_magic_page);
    let _ = writeln!(
        s,
        "magic page: {}",
        if j.magic_page_supported {
            "supported"
        } else {
            "not supported (MAP still answers r4 = 0x3, as mainline does)"
        }
    );
    let _ = writeln!(
        s,
        "EV_IDLE: {}",
        if j.ev_idle { "yes (has-idle)" } else { "no" }
    );
    let _ = writeln!(s, "hcall-instructions: {}", j.hcall_instructions.join(" "));
    emit(&s)
}

#[derive(Serialize)]
struct CallJson {
    host: &'static str,
    token: String,
    name: Option<&'static str>,
    bits: u32,
    /// The width the host reads the parameters with (32 on BookE whatever `bits` is).
    param_bits: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    msr: Option<Hex64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sc: Option<&'static str>,
    r3: Hex64,
    r3_name: Option<&'static str>,
    r4: Hex64,
    effect: EffectJson,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum EffectJson {
    None,
    MagicPageMapped {
        pa: Hex64,
        ea: Hex64,
        flags: Hex64,
        nx_flag: bool,
        legacy_nx_guest: bool,
    },
    Idle,
    Other {
        debug: String,
    },
}

#[derive(Serialize)]
struct NotHcallJson {
    host: &'static str,
    msr: Hex64,
    r0: Hex64,
    token: String,
    sc: &'static str,
    reason: &'static str,
}

/// `hcall call --msr` when the host does not take the sc as a hypercall.
fn not_a_hypercall(
    p: HostProfile,
    msr: u64,
    regs: &HcallRegs,
    outcome: ScOutcome,
    json: bool,
) -> Result<(), CliError> {
    let (sc, reason, text) = match outcome {
        ScOutcome::GuestSyscall(SyscallReason::UserMode) => (
            "guest-syscall",
            "user-mode",
            "a guest system call: MSR[PR] is set, and hypercalls come from the kernel only; \
             the host delivers a system-call interrupt to the guest",
        ),
        ScOutcome::GuestSyscall(_) => (
            "guest-syscall",
            "no-magic-r0",
            "a guest system call: r0 is not KVM_SC_MAGIC_R0 (0x4b564d21, \"KVM!\"); \
             the host delivers a system-call interrupt to the guest",
        ),
        ScOutcome::PrivilegedInstruction => (
            "privileged-instruction",
            "user-mode",
            "sc 1 from user mode (MSR[PR] set): the host delivers a program interrupt \
             with ESR[PPR]",
        ),
        _ => ("other", "other", "not answered as a hypercall"),
    };
    if json {
        return print_json(&NotHcallJson {
            host: p.name(),
            msr: Hex64(msr),
            r0: Hex64(regs.r0),
            token: token_str(regs.token()),
            sc,
            reason,
        });
    }
    let mut s = String::new();
    let _ = writeln!(s, "host:   {}: {}", p.name(), p.description());
    let _ = writeln!(s, "sc:     {text}");
    let _ = writeln!(
        s,
        "        MSR = {msr:#x}, r0 = {:#x}; registers unchanged",
        regs.r0
    );
    emit(&s)
}

fn call(a: &CallArgs) -> Result<(), CliError> {
    let p = HostProfile::from(a.host);
    let width = if a.bits == BitsArg::B64 {
        GuestWidth::Bits64
    } else {
        GuestWidth::Bits32
    };
    let width = a.msr.map_or(width, |msr| p.hcall_width(msr));
    let mut regs = HcallRegs::new(HcallToken::from_raw(0), width);
    let mut seen = [false; 12];
    for &(n, v) in &a.regs {
        let slot = usize::try_from(n).ok().and_then(|i| seen.get_mut(i));
        match slot {
            Some(s) if *s => return Err(CliError::usage(format!("r{n} is given twice"))),
            Some(s) => *s = true,
            None => return Err(CliError::usage(format!("r{n} is not a hypercall register"))),
        }
        // r0 only matters for the PR hosts' magic-r0 test, which only --msr models.
        if n == 0 && a.msr.is_none() {
            return Err(CliError::usage(
                "r0 is read only with --msr (the PR hosts' magic-r0 test)",
            ));
        }
        if !regs.set_gpr(n, v) {
            return Err(CliError::usage(format!("r{n} is not a hypercall register")));
        }
    }
    if !seen.get(11).copied().unwrap_or(false) {
        return Err(CliError::usage(
            "give the token in r11, for example --reg r11=0x2a0003 (KVM_HC_FEATURES)",
        ));
    }
    if regs.r11 > u64::from(u32::MAX) {
        // Not an error: KVM reads only the low 32 bits. Say so on stderr.
        eprintln!(
            "ppcpv: note: r11 = {:#x}; KVM reads only its low 32 bits ({})",
            regs.r11,
            regs.token()
        );
    }
    let out = match a.msr {
        None => p.respond(&regs),
        Some(msr) => {
            let mut gprs = [0u64; 32];
            gprs[0] = regs.r0;
            gprs[3..=10].copy_from_slice(&regs.params);
            gprs[11] = regs.r11;
            match p.handle_sc(&mut gprs, msr) {
                ScOutcome::Hypercall(out) => out,
                other => return not_a_hypercall(p, msr, &regs, other, a.json),
            }
        }
    };
    let token = regs.token();
    let effect = match out.effect {
        HcallEffect::None => EffectJson::None,
        HcallEffect::Idle => EffectJson::Idle,
        HcallEffect::MagicPageMapped(m) => EffectJson::MagicPageMapped {
            pa: Hex64(m.pa),
            ea: Hex64(m.ea),
            flags: Hex64(u64::from(m.flags)),
            nx_flag: m.nx_aware(),
            legacy_nx_guest: m.legacy_nx(),
        },
        // A kind added to the library later: printed by its Debug form until it gets its own.
        other => EffectJson::Other {
            debug: format!("{other:?}"),
        },
    };
    let j = CallJson {
        host: p.name(),
        token: token_str(token),
        name: token.name(),
        bits: regs.width.bits(),
        param_bits: p.param_width(regs.width).bits(),
        msr: a.msr.map(Hex64),
        sc: a.msr.map(|_| "hypercall"),
        r3: Hex64(out.r3),
        r3_name: registry::epapr_code_name(out.r3),
        r4: Hex64(out.r4),
        effect,
    };
    if a.json {
        return print_json(&j);
    }
    let mut s = String::new();
    let _ = writeln!(s, "host:   {}: {}", p.name(), p.description());
    if let Some(msr) = a.msr {
        let _ = writeln!(s, "sc:     a hypercall (MSR = {msr:#x})");
    }
    let _ = writeln!(
        s,
        "token:  {} {}",
        j.token,
        j.name.unwrap_or("(not a known hypercall)")
    );
    if a.msr.is_some() {
        let _ = writeln!(
            s,
            "mode:   {}-bit parameters, as this host reads them",
            j.bits
        );
    } else if j.param_bits == j.bits {
        let _ = writeln!(
            s,
            "mode:   {}-bit (MSR[SF] = {})",
            j.bits,
            u8::from(regs.width == GuestWidth::Bits64)
        );
    } else {
        let _ = writeln!(
            s,
            "mode:   {}-bit guest; this BookE host reads {}-bit parameters (a BookE MSR has no SF bit)",
            j.bits, j.param_bits
        );
    }
    let _ = writeln!(s, "r3 = {}  {}", j.r3, j.r3_name.unwrap_or(""));
    let r4_meaning = match out.effect {
        HcallEffect::MagicPageMapped(_) => MagicFeatures::from_map_r4(out.r4).to_string(),
        _ if token == ppcpv::hcall::host::TOKEN_FEATURES => {
            KvmFeatures::from_hcall(out.r3, out.r4).to_string()
        }
        _ => String::new(),
    };
    let _ = writeln!(s, "r4 = {}  {}", j.r4, r4_meaning);
    match out.effect {
        HcallEffect::None => {
            let _ = writeln!(s, "effect: none");
        }
        HcallEffect::Idle => {
            let _ = writeln!(s, "effect: idle request: block the vCPU until it is woken");
        }
        HcallEffect::MagicPageMapped(m) => {
            let _ = writeln!(
                s,
                "effect: magic page mapped: pa {:#x}, ea {:#x}, flags {:#x}",
                m.pa, m.ea, m.flags
            );
            if m.legacy_nx() {
                let _ = writeln!(
                    s,
                    "        NX flag clear: legacy guest, the host disables kernel NX"
                );
            } else {
                let _ = writeln!(s, "        NX flag set: the guest handles NX for the page");
            }
        }
        other => {
            let _ = writeln!(s, "effect: {other:?}");
        }
    }
    emit(&s.replace("  \n", "\n"))
}
