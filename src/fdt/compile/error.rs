//! Why a source did not compile: a typed reason plus the file, line and column.

use alloc::string::String;

use crate::fdt::writer::WriteError;

/// A place in the source: the file name as dtc would print it (the last cpp line
/// marker's name when there is one), 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SourcePos {
    /// File name (`<stdin>` for standard input).
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub column: u32,
}

impl SourcePos {
    /// A position.
    #[must_use]
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> Self {
        SourcePos {
            file: file.into(),
            line,
            column,
        }
    }
}

impl core::fmt::Display for SourcePos {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A compilation failure: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {kind}")]
#[non_exhaustive]
pub struct CompileError {
    /// Where the problem is (for tree-level errors, the node or property definition).
    pub pos: SourcePos,
    /// What is wrong.
    pub kind: ErrorKind,
}

impl CompileError {
    /// An error at `pos`.
    #[must_use]
    pub fn new(pos: SourcePos, kind: ErrorKind) -> Self {
        CompileError { pos, kind }
    }
}

/// What is wrong with a source. The texts follow dtc's messages (`dtc-parser.y`,
/// `dtc-lexer.l`, `checks.c`) where dtc has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The grammar does not allow this token here.
    #[error("syntax error: unexpected {found}, expected {expected}")]
    Syntax {
        /// The token met.
        found: String,
        /// What the grammar wanted.
        expected: &'static str,
    },
    /// A source that does not start with `/dts-v1/;` (dtc 1.6.1 accepts no other).
    #[error("missing /dts-v1/; at the start of the source")]
    MissingVersion,
    /// An integer literal dtc's `strtoull(.., 0)` does not fully consume (`08`).
    #[error("bad integer literal '{0}'")]
    BadLiteral(String),
    /// An integer literal beyond 64 bits.
    #[error("integer literal '{0}' out of range")]
    LiteralOutOfRange(String),
    /// `''`.
    #[error("empty character literal")]
    EmptyCharLiteral,
    /// `'ab'`.
    #[error("character literal has {0} characters instead of 1")]
    LongCharLiteral(usize),
    /// `"\x"` with no hex digit after it.
    #[error("\\x used with no following hex digits")]
    BadHexEscape,
    /// `/` or `%` by zero in an expression.
    #[error("division by zero")]
    DivisionByZero,
    /// `/bits/ N` with N other than 8, 16, 32, 64.
    #[error("array elements must be 8, 16, 32 or 64-bits (got {0})")]
    BadBits(u64),
    /// A value that does not fit its array element (sign-extended negatives do).
    #[error("value out of range for {0}-bit array element")]
    ValueOutOfRange(u32),
    /// `&label` inside `/bits/ 8|16|64 <…>`.
    #[error("references are only allowed in arrays with 32-bit elements")]
    NarrowReference,
    /// `/dts-v1/; /plugin/;` after a plain `/dts-v1/;` or the reverse.
    #[error("header flags don't match earlier ones")]
    HeaderMismatch,
    /// A property after a child node inside one `{ … }`.
    #[error("properties must precede subnodes")]
    PropertyAfterSubnode,
    /// `&label { … }`, `/delete-node/ &label;` … whose target does not exist.
    #[error("label or path {0} not found")]
    RefNotFound(String),
    /// `<&label>` or `&label` naming no node (dtc checks `phandle_references`,
    /// `path_references`).
    #[error("reference to non-existent node or label \"{0}\"")]
    UndefinedReference(String),
    /// Nesting (nodes, parentheses, unary operators) deeper than the compiler allows.
    #[error("nested more than {0} levels deep")]
    TooDeep(usize),
    /// `/include/` or `/incbin/` of a file found in no search directory.
    #[error("couldn't open \"{0}\"")]
    FileNotFound(String),
    /// `/include/`s nested more than 200 deep (dtc's `MAX_SRCFILE_DEPTH`).
    #[error("includes nested too deeply")]
    IncludeTooDeep,
    /// More `/include/`s in one compilation than the compiler opens.
    #[error("more than {0} /include/ files")]
    TooManyIncludes(usize),
    /// Two sibling nodes with one name (`duplicate_node_names`).
    #[error("{0}: duplicate node name")]
    DuplicateNodeName(String),
    /// One property twice in a node (`duplicate_property_names`).
    #[error("{node}:{name}: duplicate property name")]
    DuplicatePropertyName {
        /// Node path.
        node: String,
        /// Property name.
        name: String,
    },
    /// A node name character outside `[A-Za-z0-9,._+@-]` (`node_name_chars`).
    #[error("{path}: bad character '{ch}' in node name")]
    NodeNameChar {
        /// Node path.
        path: String,
        /// The character.
        ch: char,
    },
    /// A second `@` in a node name (`node_name_format`).
    #[error("{0}: multiple '@' characters in node name")]
    NodeNameFormat(String),
    /// A property name character outside `[A-Za-z0-9,._+*#?-]` (`property_name_chars`).
    #[error("{node}:{name}: bad character '{ch}' in property name")]
    PropertyNameChar {
        /// Node path.
        node: String,
        /// Property name.
        name: String,
        /// The character.
        ch: char,
    },
    /// A `name` property that is not a single string (`name_is_string`).
    #[error("{0}: \"name\" property is not a string")]
    NameNotString(String),
    /// A `name` property that differs from the node's base name (`name_properties`).
    #[error("{0}: \"name\" property is incorrect (not the base node name)")]
    NameMismatch(String),
    /// One label on two places (`duplicate_label`).
    #[error("duplicate label '{label}' on {first} and {second}")]
    DuplicateLabel {
        /// The label.
        label: String,
        /// Where it is first.
        first: String,
        /// Where it is again.
        second: String,
    },
    /// `phandle`/`linux,phandle` not one cell (`explicit_phandles`).
    #[error("{node}: bad length ({len}) {name} property")]
    PhandleLength {
        /// Node path.
        node: String,
        /// Property name.
        name: String,
        /// Its length.
        len: usize,
    },
    /// `phandle = <0>` or `<0xffffffff>`.
    #[error("{node}: bad value ({value:#x}) in {name} property")]
    PhandleValue {
        /// Node path.
        node: String,
        /// Property name.
        name: String,
        /// The value.
        value: u32,
    },
    /// `phandle = <&other>`.
    #[error("{node}: {name} is a reference to another node")]
    PhandleOtherNode {
        /// Node path.
        node: String,
        /// Property name.
        name: String,
    },
    /// `phandle` and `linux,phandle` with different values.
    #[error("{0}: mismatching 'phandle' and 'linux,phandle' properties")]
    PhandleMismatch(String),
    /// Two nodes with one explicit phandle.
    #[error("{node}: duplicated phandle {value:#x} (seen before at {other})")]
    DuplicatePhandle {
        /// Node path.
        node: String,
        /// The phandle.
        value: u32,
        /// The node that has it first.
        other: String,
    },
    /// A node made by `-@` or for an overlay in a blob of format 1, 2 or 3: those
    /// formats name nodes by full path, and dtc 1.6.1 has none for nodes it makes
    /// after parsing (`flattree.c (flatten_tree)` reads `fullpath`, which
    /// `dtc.c (fill_fullpaths)` set before `generate_label_tree` and
    /// `generate_fixups_tree` ran; dtc crashes).
    #[error(
        "{node}: dtc 1.6.1 cannot write generated nodes in a version {version} blob (use version 16 or 17)"
    )]
    GeneratedNodeInOldVersion {
        /// Path of the first such node.
        node: String,
        /// The format version asked for.
        version: u32,
    },
    /// The tree could not be written as a blob.
    #[error("writing the blob: {0}")]
    Write(WriteError),
}
