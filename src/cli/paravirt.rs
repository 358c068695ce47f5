//! `ppcpv paravirt`: what a Linux guest rewrites onto the magic page, for one word, a
//! whole code image, or as a patched copy. Argument parsing and printing only; the
//! work is in `ppcpv::paravirt`.

use super::{BitsArg, CliError, EndianArg, parse_u64, print_json};
use crate::cli::fileio::{read_input, rule};
use crate::cli::num::Hex64;
use clap::{Args, Subcommand, ValueEnum};
use ppcpv::Endian;
use ppcpv::hcall::MagicFeatures;
use ppcpv::insn::{Insn, assemble_one};
use ppcpv::num::parse_u32;
use ppcpv::paravirt::{
    self, CodeRegion, Config, Decision, Family, Format, Image, Outcome, OutcomeClass, PATTERNS,
    Rewrite, ScanConfig, Site, Tally, WordSize,
};
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Largest input read from a pipe (files are mapped, whatever their size).
const STREAM_LIMIT: u64 = 1 << 30;

/// Subcommands of `ppcpv paravirt`.
#[derive(Debug, Subcommand)]
pub enum ParavirtCommand {
    /// What Linux's kvm_check_ins does with instruction words (hex, or assembly).
    #[command(after_help = "Examples:\n  \
        ppcpv paravirt check 0x7c6000a6                    # mfmsr r3 on 64-bit Book3S\n  \
        ppcpv paravirt check 'mfspr r3,MAS7' --bits 32 --booke\n  \
        ppcpv paravirt check 'mfspr r3,MAS7' --bits 32 --booke --features 0x1",
        mut_arg("bits", |a| a.help("Guest word size (CONFIG_64BIT). Default: 64.")))]
    Check(CheckArgs),
    /// List every pattern kvm.c matches and what it becomes for one guest configuration.
    #[command(
        after_help = "Example:\n  ppcpv paravirt table --bits 32 --booke",
        mut_arg("bits", |a| a.help("Guest word size (CONFIG_64BIT). Default: 64."))
    )]
    Table(TableArgs),
    /// Scan a code image (raw blob or ELF such as vmlinux): the sites Linux would patch,
    /// and counts per instruction kind.
    #[command(after_help = "Examples:\n  \
        ppcpv paravirt scan vmlinux                        # ELF: bits and byte order from the header\n  \
        ppcpv paravirt scan code.bin --bits 32 --booke --max-sites 20\n  \
        ppcpv paravirt scan code.bin --offset 0x1000 --length 4K --json")]
    Scan(ScanArgs),
    /// Write a copy of a code image with the direct rewrites applied (loads, stores,
    /// nops). Template branches are NOT applied: they need Linux's kvm_tmp area.
    #[command(after_help = "Examples:\n  \
        ppcpv paravirt apply vmlinux -o vmlinux.patched\n  \
        ppcpv paravirt apply code.bin --bits 32 --booke > code.patched")]
    Apply(ApplyArgs),
}

/// The guest kernel and host answer that decide what is patched.
#[derive(Debug, Args)]
pub struct GuestArgs {
    /// Guest word size (CONFIG_64BIT). Default: an ELF input's class, else 64.
    #[arg(long, value_enum)]
    pub bits: Option<BitsArg>,
    /// A BookE kernel (CONFIG_BOOKE: e500, e5500, e6500); default Book3S.
    #[arg(long)]
    pub booke: bool,
    /// With --booke: a kernel without CONFIG_PPC_BOOK3E_MMU (44x), so no MAS patching.
    #[arg(long, requires = "booke")]
    pub no_book3e_mmu: bool,
    /// KVM_MAGIC_FEAT_* masks the host returned from KVM_HC_PPC_MAP_MAGIC_PAGE
    /// (1 = SR, 2 = MAS0_TO_SPRG7; mainline KVM always answers 0x3).
    #[arg(long, value_name = "MASK", value_parser = parse_u64, default_value = "0x3")]
    pub features: u64,
}

impl GuestArgs {
    fn config(&self, default_bits: WordSize) -> Result<Config, CliError> {
        let word_size = match self.bits {
            Some(BitsArg::B32) => WordSize::W32,
            Some(BitsArg::B64) => WordSize::W64,
            None => default_bits,
        };
        let family = if self.booke {
            Family::BookE
        } else {
            Family::Book3S
        };
        Config::new(word_size, family, self.booke && !self.no_book3e_mmu)
            .map_err(|e| CliError::usage(e.to_string()))
    }

    fn features(&self) -> MagicFeatures {
        MagicFeatures(self.features)
    }
}

/// `ppcpv paravirt check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Instruction words (decimal or 0x hex) or assembly statements ('mfmsr r3').
    #[arg(required = true, value_name = "WORD|ASM")]
    pub words: Vec<String>,
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ppcpv paravirt table`.
#[derive(Debug, Args)]
pub struct TableArgs {
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum FormatArg {
    /// ELF if the file starts with the ELF magic, raw otherwise.
    #[default]
    Auto,
    /// Every byte is code.
    Raw,
    /// An ELF file: scan its executable sections.
    Elf,
}

/// Which bytes of which file to read, and how.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The code image (`-` for stdin).
    pub file: PathBuf,
    /// Byte order of the code. For ELF input the default comes from the header,
    /// otherwise big.
    #[arg(long, value_enum)]
    pub endian: Option<EndianArg>,
    /// How to read the file.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// ELF: scan every executable section, not only _stext.._etext minus the kvm
    /// templates (what Linux patches, when the symbols are present).
    #[arg(long)]
    pub all_sections: bool,
    /// Only bytes from this file offset on.
    #[arg(long, value_name = "N", value_parser = parse_u64, default_value = "0")]
    pub offset: u64,
    /// Only this many bytes (K/M/G suffixes allowed).
    #[arg(long, value_name = "N", value_parser = super::parse_size)]
    pub length: Option<u64>,
}

/// `ppcpv paravirt scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Print at most N sites (counts always cover the whole input); 0 prints none.
    #[arg(long, value_name = "N", value_parser = parse_u64)]
    pub max_sites: Option<u64>,
    /// Print JSON (streamed: header, sites, then the summary).
    #[arg(long)]
    pub json: bool,
    /// Threads scanning in parallel (default: the available cores, at most 8). Sites
    /// come out in input order either way.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<u16>,
}

/// `--threads`: 1 to 64, in the one number syntax.
fn parse_threads(s: &str) -> Result<u16, String> {
    match parse_u32(s).map_err(|e| e.to_string())? {
        n @ 1..=64 => Ok(n as u16),
        n => Err(format!("{n} is not in 1..=64")),
    }
}

/// `ppcpv paravirt apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub guest: GuestArgs,
    /// Where to write the patched copy (may be FILE itself; replaced atomically).
    /// Default: standard output, refused on a terminal.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Runs `ppcpv paravirt`.
pub fn run(c: ParavirtCommand) -> Result<(), CliError> {
    match c {
        ParavirtCommand::Check(a) => run_check(&a),
        ParavirtCommand::Table(a) => run_table(&a),
        ParavirtCommand::Scan(a) => run_scan(&a),
        ParavirtCommand::Apply(a) => run_apply(&a),
    }
}

/// One word's verdict, for JSON.
#[derive(Debug, Serialize)]
struct WordJson {
    word: String,
    insn: String,
    kind: Option<&'static str>,
    outcome: &'static str,
    rewrite: Option<String>,
    rewrite_insn: Option<String>,
    field: Option<&'static str>,
    page_offset: Option<u16>,
    template: Option<&'static str>,
    template_reg: Option<u8>,
    template_rb: Option<u8>,
    reason: Option<String>,
    reason_code: Option<&'static str>,
}

fn word_json(word: u32, d: Option<&Decision>) -> WordJson {
    let mut j = WordJson {
        word: format!("{word:#010x}"),
        insn: Insn::decode(word).to_string(),
        kind: d.map(|d| d.pattern.name),
        outcome: "not-a-candidate",
        rewrite: None,
        rewrite_insn: None,
        field: None,
        page_offset: None,
        template: None,
        template_reg: None,
        template_rb: None,
        reason: None,
        reason_code: None,
    };
    let Some(d) = d else { return j };
    j.outcome = class_name(d.outcome.class());
    match d.outcome {
        Outcome::Patch(r) => {
            if let Some(w) = r.word() {
                j.rewrite = Some(format!("{w:#010x}"));
                j.rewrite_insn = Some(Insn::decode(w).to_string());
            }
            match r {
                Rewrite::Access(a) => {
                    j.field = Some(a.field.name());
                    j.page_offset = Some(a.page_offset);
                }
                Rewrite::Branch(b) => {
                    j.template = Some(b.template.symbol());
                    j.template_reg = b.reg;
                    j.template_rb = b.rb;
                }
                Rewrite::Nop => {}
                // A rewrite kind added later: the word and its disassembly say enough.
                _ => {}
            }
        }
        Outcome::Skip(why) => {
            j.reason = Some(why.to_string());
            j.reason_code = Some(why.code());
        }
    }
    j
}

fn class_name(c: OutcomeClass) -> &'static str {
    match c {
        OutcomeClass::Direct => "direct",
        OutcomeClass::Template => "template",
        OutcomeClass::Skipped => "skipped",
    }
}

/// The text after the arrow: the rewrite, or why there is none.
fn verdict_text(d: Option<&Decision>) -> String {
    match d {
        None => "not an instruction kvm.c patches".into(),
        Some(d) => match d.outcome {
            Outcome::Patch(r @ Rewrite::Branch(_)) => format!("template branch: {r}"),
            Outcome::Patch(r) => match r.word() {
                Some(w) => format!("{w:#010x}  {r}"),
                None => r.to_string(),
            },
            Outcome::Skip(why) => format!("not patched: {why}"),
        },
    }
}

fn parse_word(text: &str) -> Result<u32, CliError> {
    match parse_u32(text) {
        Ok(w) => return Ok(w),
        // A number, just too wide: say so rather than "unknown mnemonic '0x100000000'".
        Err(e @ ppcpv::num::NumError::TooWide { .. }) => {
            return Err(CliError::usage(format!("instruction word {e}")));
        }
        Err(_) => {}
    }
    assemble_one(text).map(|i| i.encode()).map_err(|e| {
        CliError::usage(format!(
            "'{text}' is neither a number nor an instruction: {e}"
        ))
    })
}

fn run_check(a: &CheckArgs) -> Result<(), CliError> {
    let cfg = a.guest.config(WordSize::W64)?;
    let features = a.guest.features();
    let words = a
        .words
        .iter()
        .map(|t| parse_word(t))
        .collect::<Result<Vec<_>, _>>()?;
    if a.json {
        let out: Vec<WordJson> = words
            .iter()
            .map(|&w| word_json(w, paravirt::check(w, cfg, features).as_ref()))
            .collect();
        return print_json(&out);
    }
    let mut out = io::stdout().lock();
    writeln!(out, "# {cfg}, MAP features {:#x}", features.bits())?;
    for w in words {
        let d = paravirt::check(w, cfg, features);
        writeln!(
            out,
            "{w:#010x}  {:<22} -> {}",
            Insn::decode(w).to_string(),
            verdict_text(d.as_ref())
        )?;
    }
    Ok(())
}

/// One pattern under a configuration, for `table` and the counts of `scan`.
#[derive(Debug, Serialize)]
struct KindJson {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
    matches: String,
    outcome: &'static str,
    rewrite: String,
}

fn kind_json(
    i: usize,
    cfg: Config,
    features: MagicFeatures,
    count: Option<u64>,
) -> Option<KindJson> {
    let p = PATTERNS.get(i)?;
    let d = Decision::new(i, p.decide(p.opcode, cfg, features))?;
    Some(KindJson {
        kind: p.name,
        count,
        matches: format!("{:#010x}", p.opcode),
        outcome: class_name(d.outcome.class()),
        rewrite: rewrite_summary(&d),
    })
}

/// The rewrite of a pattern with RT = 0, written generically (`rX`).
fn rewrite_summary(d: &Decision) -> String {
    match d.outcome {
        Outcome::Patch(Rewrite::Access(a)) => {
            format!(
                "{} rX,{}(0)  # {}",
                a.op.mnemonic(),
                a.displacement(),
                a.target()
            )
        }
        Outcome::Patch(Rewrite::Branch(b)) if b.imm_ee => {
            format!("b {} (li r30,MSR_EE)", b.template)
        }
        Outcome::Patch(Rewrite::Branch(b)) => format!("b {}", b.template),
        Outcome::Patch(r) => r.to_string(),
        Outcome::Skip(why) => format!("not patched: {why}"),
    }
}

fn run_table(a: &TableArgs) -> Result<(), CliError> {
    let cfg = a.guest.config(WordSize::W64)?;
    let features = a.guest.features();
    let rows: Vec<KindJson> = (0..PATTERNS.len())
        .filter_map(|i| kind_json(i, cfg, features, None))
        .collect();
    if a.json {
        return print_json(&rows);
    }
    let mut out = io::stdout().lock();
    writeln!(out, "# {cfg}, MAP features {:#x}", features.bits())?;
    for r in rows {
        writeln!(
            out,
            "{:<20} {}  {:<8} {}",
            r.kind, r.matches, r.outcome, r.rewrite
        )?;
    }
    Ok(())
}

/// The input mapped and its code located.
struct Loaded {
    data: crate::cli::fileio::Input,
    image: Image,
    regions: Vec<CodeRegion>,
    sc: ScanConfig,
    notes: Vec<String>,
}

fn load(input: &InputArgs, guest: &GuestArgs) -> Result<Loaded, CliError> {
    let data = read_input(&input.file, STREAM_LIMIT)?;
    let format = match input.format {
        FormatArg::Auto => Format::Auto,
        FormatArg::Raw => Format::Raw,
        FormatArg::Elf => Format::Elf,
    };
    let image = paravirt::locate(&data, format, !input.all_sections)?;
    let len = data.len() as u64;
    if input.offset > len || (input.offset == len && len != 0) {
        return Err(CliError::usage(format!(
            "--offset {:#x} is past the end of the input ({len} bytes)",
            input.offset
        )));
    }
    let regions = paravirt::image::clip(&image.regions, input.offset, input.length);
    let mut notes = Vec::new();
    let (default_bits, default_endian) = match &image.elf {
        Some(elf) => {
            if let Some(b) = guest.bits
                && b.bits() != elf.word_size.bits()
            {
                notes.push(format!(
                    "--bits {} overrides the ELF class ({})",
                    b.bits(),
                    elf.word_size
                ));
            }
            if let Some(e) = input.endian
                && Endian::from(e) != elf.endian
            {
                notes.push(format!(
                    "--endian overrides the ELF header ({})",
                    elf.endian
                ));
            }
            if elf.limited_to_text {
                notes.push(
                    "limited to _stext.._etext minus kvm_template_start..kvm_template_end, \
                     as Linux patches (--all-sections for every executable section)"
                        .into(),
                );
            } else if !input.all_sections {
                notes.push("no _stext/_etext symbols: scanning every executable section".into());
            }
            (elf.word_size, elf.endian)
        }
        None => (WordSize::W64, Endian::Big),
    };
    let sc = ScanConfig::new(
        guest.config(default_bits)?,
        guest.features(),
        input.endian.map_or(default_endian, Endian::from),
    );
    Ok(Loaded {
        data,
        image,
        regions,
        sc,
        notes,
    })
}

/// The first part of `scan --json`.
#[derive(Debug, Serialize)]
struct ScanHeader<'a> {
    input: String,
    format: &'static str,
    bits: u32,
    endian: &'static str,
    family: String,
    book3e_mmu: bool,
    features: Hex64,
    notes: &'a [String],
    regions: Vec<RegionJson>,
}

#[derive(Debug, Serialize)]
struct RegionJson {
    name: String,
    offset: Hex64,
    length: u64,
    address: Option<Hex64>,
    trailing_bytes: u64,
}

/// One site in `scan --json`.
#[derive(Debug, Serialize)]
struct SiteJson {
    offset: Hex64,
    address: Option<Hex64>,
    #[serde(flatten)]
    verdict: WordJson,
}

/// The last part of `scan --json`.
#[derive(Debug, Serialize)]
struct ScanSummary {
    sites_shown: u64,
    sites_omitted: u64,
    words: u64,
    trailing_bytes: u64,
    candidates: u64,
    patched: u64,
    direct: u64,
    template: u64,
    skipped: u64,
    counts: Vec<KindJson>,
}

fn header<'a>(path: &Path, l: &'a Loaded) -> ScanHeader<'a> {
    ScanHeader {
        input: path.display().to_string(),
        format: if l.image.elf.is_some() { "elf" } else { "raw" },
        bits: l.sc.config.word_size().bits(),
        endian: l.sc.endian.name(),
        family: l.sc.config.family().to_string(),
        book3e_mmu: l.sc.config.book3e_mmu(),
        features: Hex64(l.sc.features.bits()),
        notes: &l.notes,
        regions: l
            .regions
            .iter()
            .map(|r| RegionJson {
                name: r.name.clone(),
                offset: Hex64(r.offset),
                length: r.len,
                address: r.address.map(Hex64),
                trailing_bytes: r.len % 4,
            })
            .collect(),
    }
}

fn run_scan(a: &ScanArgs) -> Result<(), CliError> {
    let l = load(&a.input, &a.guest)?;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let limit = a.max_sites.unwrap_or(u64::MAX);
    let mut shown = 0u64;
    let mut omitted = 0u64;
    let mut tally = Tally::default();
    let mut err: Option<io::Error> = None;
    let hdr = header(&a.input.file, &l);
    let threads = a.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
        usize::from,
    );
    if a.json {
        write!(out, "{{\n\"header\": ")?;
        serde_json::to_writer_pretty(&mut out, &hdr).map_err(io::Error::from)?;
        write!(out, ",\n\"sites\": [")?;
    } else {
        write_text_header(&mut out, &hdr)?;
    }
    for r in &l.regions {
        let (Ok(start), Ok(len)) = (usize::try_from(r.offset), usize::try_from(r.len)) else {
            continue;
        };
        let bytes = l
            .data
            .get(start..start.saturating_add(len))
            .unwrap_or_default();
        paravirt::scan_parallel(
            bytes,
            r.offset,
            r.address,
            &l.sc,
            threads,
            &mut tally,
            |s| {
                if shown >= limit {
                    omitted += 1;
                    return;
                }
                if err.is_some() {
                    return;
                }
                let res = if a.json {
                    write_json_site(&mut out, s, shown == 0)
                } else {
                    write_text_site(&mut out, s, shown == 0)
                };
                if let Err(e) = res {
                    err = Some(e);
                }
                shown += 1;
            },
        );
        if let Some(e) = err.take() {
            return Err(e.into());
        }
    }
    let t = tally.totals(l.sc.config, l.sc.features);
    let summary = ScanSummary {
        sites_shown: shown,
        sites_omitted: omitted,
        words: tally.words,
        trailing_bytes: tally.trailing_bytes,
        candidates: t.candidates,
        patched: t.patched(),
        direct: t.direct,
        template: t.template,
        skipped: t.skipped,
        counts: tally
            .per_pattern
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .filter_map(|(i, &n)| kind_json(i, l.sc.config, l.sc.features, Some(n)))
            .collect(),
    };
    if a.json {
        write!(
            out,
            "{}\n],\n\"summary\": ",
            if shown > 0 { "\n" } else { "" }
        )?;
        serde_json::to_writer_pretty(&mut out, &summary).map_err(io::Error::from)?;
        writeln!(out, "\n}}")?;
    } else {
        write_text_summary(&mut out, &summary, &hdr)?;
    }
    out.flush()?;
    Ok(())
}

fn write_text_header<W: Write>(out: &mut W, h: &ScanHeader<'_>) -> io::Result<()> {
    writeln!(
        out,
        "input: {} ({}, {}-bit {}-endian {}{}, MAP features {})",
        h.input,
        h.format,
        h.bits,
        h.endian,
        h.family,
        if h.family == "BookE" && !h.book3e_mmu {
            " without BOOK3E_MMU"
        } else {
            ""
        },
        h.features
    )?;
    for n in h.notes {
        writeln!(out, "note: {n}")?;
    }
    if h.format == "elf" {
        for r in &h.regions {
            let addr = r.address.map(|a| a.to_string()).unwrap_or_default();
            writeln!(
                out,
                "region: {:<16} offset {:<10} address {:<20} {} bytes",
                // ELF section names are the file's bytes: escaped, like all input text.
                ppcpv::text::escape(&r.name),
                r.offset.to_string(),
                addr,
                r.length
            )?;
        }
    }
    Ok(())
}

fn write_text_site<W: Write>(out: &mut W, s: &Site, first: bool) -> io::Result<()> {
    if first {
        writeln!(
            out,
            "{:<12} {:<20} {:<10} {:<24} rewrite",
            "offset", "address", "word", "instruction"
        )?;
    }
    let addr = s
        .address
        .map(|a| format!("{a:#x}"))
        .unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "{:<12} {:<20} {:08x}   {:<24} {}",
        format!("{:#x}", s.offset),
        addr,
        s.word,
        Insn::decode(s.word).to_string(),
        verdict_text(Some(&s.decision))
    )
}

fn write_json_site<W: Write>(out: &mut W, s: &Site, first: bool) -> io::Result<()> {
    out.write_all(if first { b"\n" } else { b",\n" })?;
    let j = SiteJson {
        offset: Hex64(s.offset),
        address: s.address.map(Hex64),
        verdict: word_json(s.word, Some(&s.decision)),
    };
    serde_json::to_writer(&mut *out, &j).map_err(io::Error::from)
}

fn write_text_summary<W: Write>(
    out: &mut W,
    s: &ScanSummary,
    h: &ScanHeader<'_>,
) -> io::Result<()> {
    if s.sites_omitted > 0 {
        writeln!(
            out,
            "... {} more sites not shown (--max-sites)",
            s.sites_omitted
        )?;
    }
    if !s.counts.is_empty() {
        writeln!(out, "counts:")?;
        for c in &s.counts {
            writeln!(
                out,
                "  {:<20} {:>10}  {:<8} {}",
                c.kind,
                c.count.unwrap_or(0),
                c.outcome,
                c.rewrite
            )?;
        }
    }
    writeln!(
        out,
        "words: {} ({} bytes), trailing bytes: {}",
        s.words,
        s.words.saturating_mul(4),
        s.trailing_bytes
    )?;
    for r in h.regions.iter().filter(|r| r.trailing_bytes > 0) {
        writeln!(
            out,
            "note: {} ends with {} byte(s) that do not form a word (at offset {:#x})",
            ppcpv::text::escape(&r.name),
            r.trailing_bytes,
            r.offset.0.saturating_add(r.length - r.trailing_bytes)
        )?;
    }
    writeln!(
        out,
        "candidates: {}; Linux patches {} ({} in place, {} via template branches); {} left alone",
        s.candidates, s.patched, s.direct, s.template, s.skipped
    )
}

fn run_apply(a: &ApplyArgs) -> Result<(), CliError> {
    let output = rule::dest(a.output.as_deref());
    rule::check_binary(&output)?;
    let l = load(&a.input, &a.guest)?;
    let ranges: Vec<_> = l.regions.iter().map(CodeRegion::range).collect();
    let mut out = rule::open_binary(&output)?;
    let stats = paravirt::write_patched(&l.data, &ranges, &l.sc, &mut out)
        .map_err(|e| CliError::failed(format!("{}: {e}", output.display())))?;
    out.finish()?;
    for n in &l.notes {
        eprintln!("ppcpv: note: {n}");
    }
    let detail = format!(
        "{} words rewritten in place ({}-bit {}, MAP features {:#x}); \
         {} template sites left unchanged (template branches need Linux's kvm_tmp area and are not applied); \
         {} matching words Linux leaves alone too",
        stats.rewritten,
        l.sc.config.word_size().bits(),
        l.sc.config.family(),
        l.sc.features.bits(),
        stats.templates_left,
        stats.skipped
    );
    rule::announce(&output, Some(&detail));
    Ok(())
}
