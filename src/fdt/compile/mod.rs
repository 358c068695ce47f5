//! DTS source in, DTB out: a compiler for the language dtc 1.6.1 accepts, producing
//! the blob `dtc -I dts -O dtb` writes with the same options.
//!
//! The stages follow dtc's own (`dgibson/dtc`):
//!
//! * lexer — `dtc-lexer.l`: tokens, `/include/`, cpp line markers;
//! * parser — `dtc-parser.y`: the grammar, merging `/ {…}` blocks and `&ref {…}`
//!   extensions into the tree as they are read, `/delete-node/`, `/delete-property/`,
//!   `/omit-if-no-ref/`, `/bits/`, C expressions, `/incbin/`, overlay fragments;
//! * tree — `livetree.c`: nodes and properties with dtc's deleted flags and label order;
//! * checks — `checks.c`: the error checks and the fixups (phandle allocation in dtc's
//!   order and values, path references, omitted nodes);
//! * overlays — `__symbols__` (`-@`), `__fixups__` and `__local_fixups__` (`/plugin/`);
//! * the blob is written through [`DtbEmitter`]: dtc's layout, no checks of its own.
//!
//! Errors are a [`CompileError`]: file (cpp line markers honoured), line, column and
//! a typed [`ErrorKind`]. No input makes the compiler panic, and nesting is capped so
//! stack and memory stay bounded by the input.
//!
//! ```
//! use ppcpv::fdt::compile::{compile, CompileOptions, NoFiles};
//!
//! let src = br#"/dts-v1/;
//! / {
//!     #address-cells = <1>;
//!     pic: interrupt-controller { interrupt-controller; };
//!     dev { interrupt-parent = <&pic>; reg = <(0x1000 + 4)>; };
//! };"#;
//! let blob = compile(src, "board.dts", &CompileOptions::default(), &mut NoFiles).unwrap();
//! let fdt = ppcpv::fdt::Fdt::new(&blob).unwrap();
//! let pic = fdt.find("/interrupt-controller").unwrap();
//! assert_eq!(pic.property("phandle").unwrap().value, &[0, 0, 0, 1]);
//! ```

mod checks;
pub mod error;
mod lexer;
mod parser;
mod tree;

use alloc::string::String;
use alloc::vec::Vec;

pub use error::{CompileError, ErrorKind, SourcePos};

use crate::fdt::writer::{DtbEmitter, Padding, PhandleStyle};
use lexer::Lexer;
use parser::Parser;
use tree::{NodeId, Tree};

/// How the compiler reads the files a source names (`/include/`, `/incbin/`).
///
/// The library does no I/O itself; [`StdFiles`] reads the file system, [`NoFiles`]
/// refuses everything.
pub trait FileAccess {
    /// The bytes of the file at `path`, or `None` when it cannot be read (the compiler
    /// then tries the next search directory).
    fn read(&mut self, path: &str) -> Option<Vec<u8>>;
}

/// A [`FileAccess`] that finds no file: sources must be self-contained.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl FileAccess for NoFiles {
    fn read(&mut self, _path: &str) -> Option<Vec<u8>> {
        None
    }
}

/// A [`FileAccess`] over the file system (`std::fs::read`).
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default)]
pub struct StdFiles;

#[cfg(feature = "std")]
impl FileAccess for StdFiles {
    fn read(&mut self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(path).ok()
    }
}

/// What dtc's command line would say: search directories (`-i`), `-@`, `-b`, `-H`,
/// the padding options `-p`/`-S`/`-a`, `-R` and the format version `-V`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompileOptions {
    /// Directories searched, in order, after the including file's own directory.
    pub include_dirs: Vec<String>,
    /// `-@`: write `__symbols__` and give every labelled node a phandle.
    pub symbols: bool,
    /// `-p`, `-S`, `-a`.
    pub padding: Padding,
    /// `-b`: the header's boot CPU, instead of dtc's guess (the `reg` of the first
    /// `/cpus` child).
    pub boot_cpuid_phys: Option<u32>,
    /// `-H`: which phandle properties allocation adds (dtc's default is `phandle`).
    pub phandle_style: PhandleStyle,
    /// `-R`: empty reservation entries added after the source's own.
    pub empty_reserves: u32,
    /// `-V`: the blob format version, 1, 2, 3, 16 or 17 (dtc's default).
    pub version: u32,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            include_dirs: Vec::new(),
            symbols: false,
            padding: Padding::NONE,
            boot_cpuid_phys: None,
            phandle_style: PhandleStyle::default(),
            empty_reserves: 0,
            version: 17,
        }
    }
}

impl CompileOptions {
    /// dtc's defaults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a search directory (`-i DIR`).
    #[must_use]
    pub fn include_dir(mut self, dir: impl Into<String>) -> Self {
        self.include_dirs.push(dir.into());
        self
    }

    /// Sets `-@`.
    #[must_use]
    pub fn symbols(mut self, on: bool) -> Self {
        self.symbols = on;
        self
    }

    /// Sets the padding (`-p`, `-S`, `-a`).
    #[must_use]
    pub fn padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// Sets the boot CPU (`-b`).
    #[must_use]
    pub fn boot_cpuid_phys(mut self, cpu: u32) -> Self {
        self.boot_cpuid_phys = Some(cpu);
        self
    }

    /// Adds `n` empty reservation entries (`-R`).
    #[must_use]
    pub fn empty_reserves(mut self, n: u32) -> Self {
        self.empty_reserves = n;
        self
    }

    /// Sets the blob format version (`-V`: 1, 2, 3, 16 or 17; others fail to
    /// compile with [`WriteError::UnsupportedVersion`](crate::fdt::writer::WriteError)).
    #[must_use]
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// Sets the phandle style (`-H`).
    #[must_use]
    pub fn phandle_style(mut self, style: PhandleStyle) -> Self {
        self.phandle_style = style;
        self
    }
}

/// True for text that starts, after whitespace, comments and cpp line markers, with
/// `/dts-v1/`: how a tool tells DTS source from a blob by content.
#[must_use]
pub fn looks_like_dts(bytes: &[u8]) -> bool {
    dts_start(bytes) == Some(true)
}

/// [`looks_like_dts`] for a prefix of a longer input: `Some(true)` when these bytes
/// already start DTS source, `Some(false)` when no continuation can (a blob's magic,
/// any other first token), `None` when the prefix is all whitespace, comments and
/// line markers, or ends inside one, or inside `/dts-v1/` itself. A reader of a
/// stream reads on only while the answer is `None`.
#[must_use]
pub fn dts_start(bytes: &[u8]) -> Option<bool> {
    const TAG: &[u8] = b"/dts-v1/";
    let mut s = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest,
        // A prefix of the byte-order mark decides nothing yet.
        None if !bytes.is_empty() && b"\xef\xbb\xbf".starts_with(bytes) => return None,
        None => bytes,
    };
    loop {
        let t = s.trim_ascii_start();
        if t.is_empty() {
            return None;
        }
        if let Some(rest) = t.strip_prefix(b"/*") {
            // The comment ends at the first "*/"; unterminated, it may end later.
            s = &rest[rest.windows(2).position(|w| w == b"*/")? + 2..];
        } else if t.starts_with(b"//") || t.starts_with(b"#") {
            s = &t[t.iter().position(|&b| b == b'\n')? + 1..];
        } else if t.len() < TAG.len() {
            // "/" could still become "/*", "//" or "/dts-v1/".
            return if TAG.starts_with(t) {
                None
            } else {
                Some(false)
            };
        } else {
            return Some(t.starts_with(TAG));
        }
    }
}

/// Compiles DTS `source` (named `name` in messages and for relative `/include/`s) into
/// a blob, exactly as `dtc -I dts -O dtb` with the same options.
///
/// # Errors
/// A [`CompileError`] naming file, line and column: syntax and lexical errors, missing
/// labels or paths, dtc's error checks (duplicates, bad names, bad phandles), files not
/// found, and trees too large for the format ([`ErrorKind::Write`]).
pub fn compile(
    source: &[u8],
    name: &str,
    options: &CompileOptions,
    files: &mut dyn FileAccess,
) -> Result<Vec<u8>, CompileError> {
    let lx = Lexer::new(source, name, files, &options.include_dirs);
    let (mut parsed, lx) = Parser::new(lx, source.len()).parse()?;
    {
        let mut ck = checks::Checker::new(
            &mut parsed.tree,
            &lx,
            options.phandle_style,
            parsed.plugin,
            options.symbols,
        );
        ck.run()?;
        if options.symbols {
            ck.generate_symbols();
        }
        if parsed.plugin {
            ck.generate_fixups();
        }
    }
    let boot = options.boot_cpuid_phys.unwrap_or(parsed.boot_cpuid);
    emit(
        &parsed.tree,
        source.len(),
        &parsed.reserves,
        boot,
        options,
        &lx,
    )
}

/// Writes the live tree through [`DtbEmitter`], dtc's layout without checks:
/// properties first, then children, in tree order (dtc's `flatten_tree`). Whatever
/// the checks let through is written as dtc writes it (empty or overlapping
/// reservations, names outside the specification's characters, the unresolved path
/// references an overlay lists under `__fixups__`).
fn emit(
    tree: &Tree,
    source_len: usize,
    reserves: &[(u64, u64)],
    boot: u32,
    options: &CompileOptions,
    lx: &Lexer<'_>,
) -> Result<Vec<u8>, CompileError> {
    let werr = |pos, e| lx.error(pos, ErrorKind::Write(e));
    let root_pos = tree.nodes[tree.root].pos;
    let mut b = DtbEmitter::with_version(options.version).map_err(|e| werr(root_pos, e))?;
    if b.version() < 16 {
        // Formats 1-3 name nodes by full path, which dtc has no value for in the
        // nodes it makes after parsing.
        if let Some(id) = tree
            .preorder()
            .into_iter()
            .find(|&id| tree.nodes[id].generated)
        {
            return Err(lx.error(
                tree.nodes[id].pos,
                ErrorKind::GeneratedNodeInOldVersion {
                    node: tree.path(id),
                    version: options.version,
                },
            ));
        }
    }
    for &(address, size) in reserves {
        b.add_memreserve(address, size);
    }
    b.add_empty_reserves(usize::try_from(options.empty_reserves).unwrap_or(usize::MAX));

    b.set_boot_cpuid_phys(boot);
    // DTS text is larger than the structure block it describes (names and values
    // are longer as text), so the source length is room enough without regrowth;
    // pages not written stay unmapped.
    b.reserve(source_len.min(1 << 30));
    enum Step {
        Open(NodeId),
        Close,
    }
    // Strings-block offsets by property name id, found once per name.
    let mut offsets: Vec<Option<u32>> = alloc::vec![None; tree.name_count()];
    let mut stack = alloc::vec![Step::Open(tree.root)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Close => b.end_node().map_err(|e| werr(root_pos, e))?,
            Step::Open(id) => {
                let node = &tree.nodes[id];
                b.begin_node(&node.name);
                for p in node.props.iter().filter(|p| !p.deleted) {
                    let name = tree.name(p.name);
                    let nameoff = match offsets.get(p.name.index()).copied().flatten() {
                        Some(off) => off,
                        None => {
                            let off = b.name_offset(name).map_err(|e| werr(p.pos, e))?;
                            if let Some(slot) = offsets.get_mut(p.name.index()) {
                                *slot = Some(off);
                            }
                            off
                        }
                    };
                    b.property_at(name, nameoff, &p.data.bytes)
                        .map_err(|e| werr(p.pos, e))?;
                }
                stack.push(Step::Close);
                let at = stack.len();
                stack.extend(tree.live_children(id).map(Step::Open));
                stack[at..].reverse();
            }
        }
    }
    b.finish(&options.padding).map_err(|e| werr(root_pos, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(src: &str) -> Result<Vec<u8>, CompileError> {
        compile(
            src.as_bytes(),
            "t.dts",
            &CompileOptions::default(),
            &mut NoFiles,
        )
    }

    #[test]
    fn detects_dts_by_content() {
        assert!(looks_like_dts(b"/dts-v1/;"));
        assert!(looks_like_dts(
            b"  /* x */\n// y\n# 1 \"a.dts\"\n/dts-v1/; / {};"
        ));
        assert!(!looks_like_dts(b"\xd0\x0d\xfe\xed"));
        assert!(!looks_like_dts(b""));
        assert!(!looks_like_dts(b"/* unterminated"));
        // Prefixes of a stream: undecided until the first token.
        assert_eq!(dts_start(b""), None);
        assert_eq!(dts_start(b"  \n/* a comment"), None);
        assert_eq!(dts_start(b"// line"), None);
        assert_eq!(dts_start(b"/"), None);
        assert_eq!(dts_start(b"\n/dts-v"), None);
        assert_eq!(dts_start(b"\xef\xbb"), None);
        assert_eq!(dts_start(b"/dts-v1/"), Some(true));
        assert_eq!(dts_start(b"\xd0\x0d\xfe\xed"), Some(false));
        assert_eq!(dts_start(b"\0\0\0"), Some(false));
        assert_eq!(dts_start(b"/ { };"), Some(false));
        assert_eq!(dts_start(b"/x"), Some(false));
        assert_eq!(dts_start(b"/dts-v2/;"), Some(false));
    }

    #[test]
    fn errors_carry_positions() {
        let e = c("/dts-v1/;\n/ {\n  p = <&nowhere>;\n};").unwrap_err();
        assert_eq!(e.pos, SourcePos::new("t.dts", 3, 3));
        assert_eq!(e.kind, ErrorKind::UndefinedReference("nowhere".into()));
        let e = c("/dts-v1/;\n/ { p = <1 2>; p = <3>; };").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::DuplicatePropertyName { .. }));
        let e = c("/dts-v1/; / { a: x {}; a: y {}; };").unwrap_err();
        assert!(matches!(e.kind, ErrorKind::DuplicateLabel { .. }));
        let e = c("/ { };").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingVersion);
        let e = c("/dts-v1/; / { p = <(1 / 0)>; };").unwrap_err();
        assert_eq!(e.kind, ErrorKind::DivisionByZero);
    }

    #[test]
    fn phandles_are_allocated_in_reference_order() {
        let blob =
            c("/dts-v1/; / { a: a { }; b: b { phandle = <1>; }; c { p = <&a &b>; }; };").unwrap();
        let fdt = crate::fdt::Fdt::new(&blob).unwrap();
        // 1 is taken by b's explicit phandle, so a gets 2.
        assert_eq!(
            fdt.find("/c").unwrap().property("p").unwrap().value,
            &[0, 0, 0, 2, 0, 0, 0, 1]
        );
    }

    #[test]
    fn hostile_inputs_are_errors() {
        let deep = "(".repeat(10_000);
        assert!(c(&alloc::format!("/dts-v1/; / {{ p = <{deep}>; }};")).is_err());
        let nest = "a {".repeat(10_000);
        assert!(c(&alloc::format!("/dts-v1/; / {{ {nest}")).is_err());
        let minus = "-".repeat(10_000);
        assert!(c(&alloc::format!("/dts-v1/; / {{ p = <({minus}1)>; }};")).is_err());
        for s in [
            "",
            "/dts-v1/",
            "/dts-v1/; /",
            "/dts-v1/; / { p = [0",
            "'",
            "\"",
            "/*",
        ] {
            assert!(c(s).is_err());
        }
    }
}
