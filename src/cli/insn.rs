//! `ppcpv insn`: assemble and disassemble hypercall and patching instructions, and list
//! the named `hcall-instructions` sequences. Argument parsing and printing only; the
//! codec is `ppcpv::insn`.

use super::{CliError, EndianArg, print_json};
use clap::{Args, Subcommand, ValueEnum};
use ppcpv::Endian;
use ppcpv::insn::seq::{StubRun, run_stub};
use ppcpv::insn::{Insn, KnownSequence, assemble, decode_as, fetch, parse_words, recognise};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Subcommands of `ppcpv insn`.
#[derive(Debug, Subcommand)]
pub enum InsnCommand {
    /// Assemble instructions into 32-bit words.
    ///
    /// Statements are separated by `;` or newlines; `#` starts a comment. Registers are
    /// `r3` or `3`, memory operands `D(rA)` (`-4008(0)`), branches `b .+8`, SPRs by name
    /// or number (`mfspr r3,SPRG0`, `mfsprg0 r3`), `.long 0x…` emits any word. Signed
    /// 16-bit immediates take decimal -32768..=32767 or a hex bit pattern up to 0xffff
    /// (`li r30,0x8000` = `li r30,-32768`).
    #[command(after_help = "Examples:\n  \
        ppcpv insn asm \"lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop\"\n  \
        ppcpv insn asm --format cells \"sc 1; nop; nop; nop\"\n  \
        echo 'mfmsr r3' | ppcpv insn asm -")]
    Asm(AsmArgs),
    /// Disassemble 32-bit words, as a big- or little-endian guest executes them.
    ///
    /// Words are decimal or 0x hex, separated by spaces or commas, optionally in DTS
    /// brackets (`<0x44000022 0x60000000>`); `-` reads them from stdin. A known
    /// hypercall sequence is named.
    #[command(after_help = "Examples:\n  \
        ppcpv insn disasm 0x3c004b56 0x60004d21 0x44000002 0x60000000\n  \
        ppcpv insn disasm --endian little --stub 0x08000048 0x3860ffff 0x48000008 0xffff6038")]
    Disasm(DisasmArgs),
    /// The named hypercall sequences: their words and what big- and little-endian
    /// guests execute for them.
    #[command(after_help = "Examples:\n  ppcpv insn seq\n  ppcpv insn seq qemu-fallback --json")]
    Seq(SeqArgs),
}

/// How `insn asm` prints words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum WordFormat {
    /// One `0x…` word per line.
    #[default]
    Lines,
    /// DTS cells: `<0x3c004b56 0x60004d21>`.
    Cells,
    /// Comma-separated, as `ppcpv hypervisor --hcall` takes them.
    List,
}

/// Arguments of `ppcpv insn asm`.
#[derive(Debug, Args)]
pub struct AsmArgs {
    /// Assembly text; several arguments are separate statements; `-` reads stdin.
    #[arg(required = true, value_name = "TEXT")]
    pub text: Vec<String>,
    /// How to print the words.
    #[arg(long, value_enum, default_value_t)]
    pub format: WordFormat,
    /// Print JSON: `{"words": ["0x…"], "sequence": NAME|null}`.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `ppcpv insn disasm`.
#[derive(Debug, Args)]
pub struct DisasmArgs {
    /// Instruction words (big-endian values, as in `hcall-instructions`); `-` = stdin.
    #[arg(required = true, value_name = "WORD")]
    pub words: Vec<String>,
    /// Decode as a guest of this byte order fetches the words: `little` reverses each
    /// word's bytes (what a little-endian CPU runs when the property's bytes are copied
    /// unchanged, as Linux 3.x did; newer kernels byte-swap first and run the `big`
    /// reading).
    #[arg(long, value_enum, default_value_t)]
    pub endian: EndianArg,
    /// Also show what the guest's hypercall stub runs with these words, in both byte
    /// orders (at most 4 words).
    #[arg(long)]
    pub stub: bool,
    /// Print JSON: `{endian, sequence, insns: [{word, fetched, text, mnemonic, known}],
    /// stub}`, words as `"0x…"` strings.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `ppcpv insn seq`.
#[derive(Debug, Args)]
pub struct SeqArgs {
    /// Show only this sequence.
    #[arg(value_parser = parse_sequence, value_name = "NAME")]
    pub name: Option<KnownSequence>,
    /// Print JSON: an array of `{name, description, words, text, always_fails, big,
    /// little}`, where `big`/`little` list the stub slots each guest runs.
    #[arg(long)]
    pub json: bool,
}

fn parse_sequence(s: &str) -> Result<KnownSequence, String> {
    KnownSequence::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = KnownSequence::ALL.iter().map(|k| k.name()).collect();
        format!("unknown sequence '{s}' (known: {})", names.join(", "))
    })
}

/// Runs `ppcpv insn`.
pub fn run(c: InsnCommand) -> Result<(), CliError> {
    match c {
        InsnCommand::Asm(a) => run_asm(a),
        InsnCommand::Disasm(a) => run_disasm(a),
        InsnCommand::Seq(a) => run_seq(a),
    }
}

/// Reads all of stdin as UTF-8 text.
fn stdin_text() -> Result<String, CliError> {
    let input = crate::cli::fileio::read_input(Path::new("-"), 1 << 24)?;
    String::from_utf8(input.to_vec()).map_err(|_| CliError::failed("stdin is not UTF-8 text"))
}

/// A word as JSON: `"0x08000048"` (always eight hex digits).
#[derive(Debug, Clone, Copy)]
struct Word(u32);

impl Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:#010x}", self.0))
    }
}

fn words_json(words: &[u32]) -> Vec<Word> {
    words.iter().copied().map(Word).collect()
}

fn cells(words: &[u32]) -> String {
    let inner: Vec<String> = words.iter().map(|w| format!("{w:#010x}")).collect();
    format!("<{}>", inner.join(" "))
}

#[derive(Serialize)]
struct AsmJson {
    words: Vec<Word>,
    sequence: Option<&'static str>,
}

/// Writes `text` to stdout through an `io::Error`, so a reader that leaves early (`| head`)
/// ends the command quietly in `main` instead of panicking as `print!` does.
fn print_out(text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.flush()?;
    Ok(())
}

fn run_asm(a: AsmArgs) -> Result<(), CliError> {
    let mut text = String::new();
    for t in &a.text {
        if t == "-" {
            text.push_str(&stdin_text()?);
        } else {
            text.push_str(t);
        }
        text.push('\n');
    }
    let from_stdin = a.text.iter().any(|t| t == "-");
    let words = assemble(&text).map_err(|e| {
        if from_stdin {
            CliError::from(e)
        } else {
            CliError::usage(e.to_string())
        }
    })?;
    if words.is_empty() {
        return Err(CliError::usage("no instructions to assemble"));
    }
    if a.json {
        return print_json(&AsmJson {
            words: words_json(&words),
            sequence: recognise(&words).map(KnownSequence::name),
        });
    }
    let out = match a.format {
        WordFormat::Lines => {
            let lines: Vec<String> = words.iter().map(|w| format!("{w:#010x}")).collect();
            lines.join("\n")
        }
        WordFormat::Cells => cells(&words),
        WordFormat::List => {
            let items: Vec<String> = words.iter().map(|w| format!("{w:#010x}")).collect();
            items.join(",")
        }
    };
    print_out(&format!("{out}\n"))
}

#[derive(Serialize)]
struct InsnJson {
    word: Word,
    fetched: Word,
    text: String,
    mnemonic: &'static str,
    known: bool,
}

#[derive(Serialize)]
struct StepJson {
    slot: usize,
    word: Word,
    text: String,
}

#[derive(Serialize)]
struct RunJson {
    steps: Vec<StepJson>,
    result: String,
    always_fails: bool,
}

impl From<&StubRun> for RunJson {
    fn from(r: &StubRun) -> Self {
        RunJson {
            steps: r
                .steps
                .iter()
                .map(|s| StepJson {
                    slot: s.slot,
                    word: Word(s.word),
                    text: s.insn.to_string(),
                })
                .collect(),
            result: r.to_string(),
            always_fails: r.always_fails(),
        }
    }
}

#[derive(Serialize)]
struct StubJson {
    big: RunJson,
    little: RunJson,
}

#[derive(Serialize)]
struct DisasmJson {
    endian: &'static str,
    sequence: Option<&'static str>,
    insns: Vec<InsnJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stub: Option<StubJson>,
}

/// Both byte orders' runs through the guest stub.
fn stub_runs(words: &[u32]) -> Result<(StubRun, StubRun), CliError> {
    let be = run_stub(words, Endian::Big).map_err(|e| CliError::usage(e.to_string()))?;
    let le = run_stub(words, Endian::Little).map_err(|e| CliError::usage(e.to_string()))?;
    Ok((be, le))
}

/// A table of the stub run in both byte orders: one row per stub slot, `-` where a
/// guest skips it.
fn stub_table(be: &StubRun, le: &StubRun, indent: &str) -> String {
    let cell = |r: &StubRun, slot: usize| {
        r.step_at(slot)
            .map_or_else(|| "-".to_string(), |s| s.insn.to_string())
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{indent}{:<6}{:<26}little-endian guest",
        "slot", "big-endian guest"
    );
    for slot in 0..=ppcpv::insn::seq::STUB_SLOTS {
        let _ = writeln!(
            out,
            "{indent}{slot:<6}{:<26}{}",
            cell(be, slot),
            cell(le, slot)
        );
    }
    let _ = writeln!(out, "{indent}big-endian guest:    {be}");
    let _ = write!(out, "{indent}little-endian guest: {le}");
    out
}

fn run_disasm(a: DisasmArgs) -> Result<(), CliError> {
    let from_stdin = a.words.iter().any(|w| w == "-");
    let mut text = String::new();
    for arg in &a.words {
        if arg == "-" {
            text.push_str(&stdin_text()?);
        } else {
            text.push_str(arg);
        }
        text.push('\n');
    }
    let words = parse_words(&text).map_err(|e| {
        if from_stdin {
            CliError::from(e)
        } else {
            CliError::usage(e.to_string())
        }
    })?;
    if words.is_empty() {
        return Err(CliError::usage("no words to disassemble"));
    }
    let endian = Endian::from(a.endian);
    let insns = decode_as(&words, endian);
    let sequence = recognise(&words);
    let stub = if a.stub {
        Some(stub_runs(&words)?)
    } else {
        None
    };
    if a.json {
        return print_json(&DisasmJson {
            endian: endian.name(),
            sequence: sequence.map(KnownSequence::name),
            insns: words
                .iter()
                .zip(&insns)
                .map(|(&w, i)| InsnJson {
                    word: Word(w),
                    fetched: Word(fetch(w, endian)),
                    text: i.to_string(),
                    mnemonic: i.mnemonic(),
                    known: !i.is_unknown(),
                })
                .collect(),
            stub: stub.as_ref().map(|(be, le)| StubJson {
                big: be.into(),
                little: le.into(),
            }),
        });
    }
    let mut out = String::new();
    if endian == Endian::Little {
        let _ = writeln!(
            out,
            "# little-endian guest: each word is fetched byte-reversed"
        );
    }
    for (&w, i) in words.iter().zip(&insns) {
        match endian {
            Endian::Big => {
                let _ = writeln!(out, "{w:#010x}  {i}");
            }
            Endian::Little => {
                let _ = writeln!(out, "{w:#010x}  {:#010x}  {i}", fetch(w, endian));
            }
        }
    }
    if let Some(k) = sequence {
        let _ = writeln!(out, "# sequence: {k}: {}", k.description());
    }
    if let Some((be, le)) = &stub {
        let _ = writeln!(out, "# guest hypercall stub with these words:");
        let _ = writeln!(out, "{}", stub_table(be, le, "#   "));
    }
    print_out(&out)
}

#[derive(Serialize)]
struct SeqJson {
    name: &'static str,
    description: &'static str,
    words: Vec<Word>,
    text: Vec<String>,
    always_fails: bool,
    big: RunJson,
    little: RunJson,
}

fn run_seq(a: SeqArgs) -> Result<(), CliError> {
    let list: Vec<KnownSequence> = match a.name {
        Some(k) => vec![k],
        None => KnownSequence::ALL.to_vec(),
    };
    let mut json = Vec::new();
    let mut out = String::new();
    for k in list {
        let (be, le) = stub_runs(k.words())?;
        if a.json {
            json.push(SeqJson {
                name: k.name(),
                description: k.description(),
                words: words_json(k.words()),
                text: k
                    .words()
                    .iter()
                    .map(|&w| Insn::decode(w).to_string())
                    .collect(),
                always_fails: k.always_fails(),
                big: (&be).into(),
                little: (&le).into(),
            });
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let text: Vec<String> = k
            .words()
            .iter()
            .map(|&w| Insn::decode(w).to_string())
            .collect();
        let _ = writeln!(out, "{}: {}", k.name(), k.description());
        let _ = writeln!(out, "  hcall-instructions = {};", cells(k.words()));
        let _ = writeln!(out, "  as written: {}", text.join("; "));
        let _ = writeln!(out, "{}", stub_table(&be, &le, "  "));
    }
    if a.json {
        return print_json(&json);
    }
    print_out(&out)
}
