//! The exact layout of `struct kvm_vcpu_arch_shared`, the first 240 bytes of the magic page.
//!
//! Source: `torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h` (the struct and the
//! `KVM_MAGIC_FEAT_*` masks), `arch/powerpc/kvm/powerpc.c (kvmppc_swab_shared)` (which
//! fields KVM byte-swaps), `arch/powerpc/kernel/kvm.c` + `kvm_emul.S` (the offsets a
//! 32-bit guest uses).
//!
//! What the crate models, and why: the 240-byte mainline struct at the start of a
//! 4096-byte page. The header's rule is that fields are only ever appended, each new one
//! announced by a `KVM_MAGIC_FEAT_*` mask in the MAP answer, so the fields behind
//! `KVM_MAGIC_FEAT_SR` and `KVM_MAGIC_FEAT_MAS0_TO_SPRG7` carry that mask here and the
//! views refuse them when it is not in force. Bytes 240..4096 are kept raw: only a vendor
//! SDK fork of the kernel ever put fields there. Every u64 stays a u64 even for a
//! 32-bit guest, which reaches the low word at +4 (see [`Field::offset32`]). `esr` is a
//! u32, as the struct declares it, although some kernels' accessor macros treat it as
//! 64 bits.
//!
//! ```text
//! 0x000 scratch1  0x008 scratch2  0x010 scratch3  0x018 critical   (u64, never swapped)
//! 0x020 sprg0 .. 0x038 sprg3  0x040 srr0  0x048 srr1  0x050 dar  0x058 msr   (u64, swapped)
//! 0x060 dsisr  0x064 int_pending                                  (u32, swapped)
//! 0x068 sr[16] .. 0x0a7                        (u32 x 16, swapped; KVM_MAGIC_FEAT_SR)
//! 0x0a8 mas0  0x0ac mas1  0x0b0 mas7_3  0x0b8 mas2  0x0c0 mas4  0x0c4 mas6
//! 0x0c8 esr   0x0cc pir   0x0d0 sprg4 .. 0x0e8 sprg7   (not swapped; KVM_MAGIC_FEAT_MAS0_TO_SPRG7)
//! 0x0f0 end of the struct; bytes 0x0f0..0x1000 of the page are unused by mainline KVM
//! ```
//!
//! The table [`FIELDS`] is written out by hand from the header (as linux-loader mirrors
//! `boot_params`), and checked at compile time against the `#[repr(C)]` mirror
//! [`KvmVcpuArchShared`], whose offsets the compiler computes. The interop test
//! `tests/magic_interop.rs` checks both against what gcc computes from the kernel's own
//! header.

use crate::hcall::MagicFeatures;
use alloc::format;
use alloc::string::{String, ToString};
use core::mem::{offset_of, size_of};

/// Size of the magic page: one 4 KiB page (a 64 KiB-page host moves it by copying
/// 0x1000 bytes in `torvalds/linux: arch/powerpc/kvm/powerpc.c (kvmppc_kvm_pv)`).
pub const PAGE_SIZE: usize = 4096;

/// `sizeof(struct kvm_vcpu_arch_shared)` = 240 (0xF0) on every ABI: every u64 member is
/// already 8-aligned, so there is no padding even where u64 aligns to 4 (checked below
/// against the `#[repr(C)]` mirror, and by `tests/magic_interop.rs` against gcc).
pub const SHARED_SIZE: usize = 240;

/// `KVM_MAGIC_PAGE` = -4096: the effective address where Linux maps the page
/// (`torvalds/linux: arch/powerpc/kernel/kvm.c`), as a 64-bit EA.
pub const KVM_MAGIC_PAGE_EA64: u64 = 0xFFFF_FFFF_FFFF_F000;

/// `KVM_MAGIC_PAGE` as a 32-bit guest's EA: 0xFFFFF000.
pub const KVM_MAGIC_PAGE_EA32: u32 = 0xFFFF_F000;

/// Width of one element of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Width {
    /// `__u32`.
    U32,
    /// `__u64`.
    U64,
}

impl Width {
    /// Bytes per element: 4 or 8.
    #[must_use]
    pub const fn bytes(self) -> usize {
        match self {
            Width::U32 => 4,
            Width::U64 => 8,
        }
    }

    /// Bits per element: 32 or 64.
    #[must_use]
    pub const fn bits(self) -> u32 {
        match self {
            Width::U32 => 32,
            Width::U64 => 64,
        }
    }

    /// The C type name: `__u32` or `__u64`.
    #[must_use]
    pub const fn c_type(self) -> &'static str {
        match self {
            Width::U32 => "__u32",
            Width::U64 => "__u64",
        }
    }

    /// The Rust type name: `u32` or `u64`.
    #[must_use]
    pub const fn rust_type(self) -> &'static str {
        match self {
            Width::U32 => "u32",
            Width::U64 => "u64",
        }
    }
}

macro_rules! field_ids {
    ($($id:ident = $name:literal),* $(,)?) => {
        /// One field of `struct kvm_vcpu_arch_shared`, in declaration order. The kernel
        /// only ever appends fields, so more may come.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum FieldId {
            $(
                #[doc = concat!("`", $name, "`")]
                $id,
            )*
        }

        impl FieldId {
            /// Every field in declaration (and offset) order.
            pub const ALL: [FieldId; FIELD_COUNT] = [$(FieldId::$id),*];
        }
    };
}

/// Number of fields of the mainline struct (`sr[16]` counts once).
pub const FIELD_COUNT: usize = 27;

field_ids! {
    Scratch1 = "scratch1", Scratch2 = "scratch2", Scratch3 = "scratch3", Critical = "critical",
    Sprg0 = "sprg0", Sprg1 = "sprg1", Sprg2 = "sprg2", Sprg3 = "sprg3",
    Srr0 = "srr0", Srr1 = "srr1", Dar = "dar", Msr = "msr",
    Dsisr = "dsisr", IntPending = "int_pending", Sr = "sr",
    Mas0 = "mas0", Mas1 = "mas1", Mas7_3 = "mas7_3", Mas2 = "mas2", Mas4 = "mas4", Mas6 = "mas6",
    Esr = "esr", Pir = "pir", Sprg4 = "sprg4", Sprg5 = "sprg5", Sprg6 = "sprg6", Sprg7 = "sprg7",
}

impl FieldId {
    /// The field's row in [`FIELDS`].
    #[must_use]
    pub const fn field(self) -> &'static Field {
        &FIELDS[self as usize]
    }

    /// The C member name (`int_pending`, `mas7_3`, `sr`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.field().name
    }

    /// Looks a field up by its C member name (exact, lower case).
    #[must_use]
    pub fn from_name(name: &str) -> Option<FieldId> {
        FIELDS.iter().find(|f| f.name == name).map(|f| f.id)
    }
}

/// In JSON a field is its C member name (`"int_pending"`), as the command line writes it.
#[cfg(feature = "serde")]
impl serde::Serialize for FieldId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl core::fmt::Display for FieldId {
    /// The C member name (width and alignment flags apply).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(self.name())
    }
}

/// One row of the layout table (rows live in [`FIELDS`]; reach one with
/// [`FieldId::field`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Field {
    /// Which field.
    pub id: FieldId,
    /// The C member name.
    pub name: &'static str,
    /// Byte offset from the start of the page (= `offsetof`).
    pub offset: usize,
    /// Width of one element.
    pub width: Width,
    /// Number of elements: 16 for `sr`, 1 otherwise.
    pub count: usize,
    /// The `KVM_MAGIC_FEAT_*` mask announcing the field, `None` for the base fields.
    pub feature: Option<MagicFeatures>,
    /// Whether `kvmppc_swab_shared` swaps it when the guest's byte order changes.
    pub swapped: bool,
    /// Offset of the word a 32-bit guest loads with `lwz`/stores with `stw`: `offset + 4`
    /// (the low word, big-endian) for a u64, except the template scratch slots, used at
    /// `+0`; `offset` for a u32. Source: `arch/powerpc/kernel/kvm_emul.S`, whose
    /// `LL64`/`STL64` macros load and store `offs + 4` on 32-bit, while `SCRATCH_SAVE`
    /// stores r31/r30 with `PPC_STL` (an `stw` at +0 on 32-bit) and CR with `stw` at +0.
    pub offset32: usize,
    /// What the field holds, one line (reworded from the header and ppc-pv.rst).
    pub note: &'static str,
}

impl Field {
    /// Total size in bytes (= `sizeof` of the member): 64 for `sr`.
    #[must_use]
    pub const fn size(&self) -> usize {
        self.width.bytes() * self.count
    }

    /// The effective address at which a Linux guest reaches the field: -4096 + offset.
    #[must_use]
    pub const fn ea64(&self) -> u64 {
        KVM_MAGIC_PAGE_EA64 + self.offset as u64
    }

    /// Offset of element `index` (0 for a scalar), or `None` when out of range.
    #[must_use]
    pub const fn element_offset(&self, index: usize) -> Option<usize> {
        if index < self.count {
            Some(self.offset + index * self.width.bytes())
        } else {
            None
        }
    }

    /// Whether the field can be read under `features` (always for base fields).
    #[must_use]
    pub const fn available(&self, features: MagicFeatures) -> bool {
        match self.feature {
            None => true,
            Some(mask) => features.contains(mask),
        }
    }

    /// The gating mask's C name, if any.
    #[must_use]
    pub fn feature_name(&self) -> Option<&'static str> {
        self.feature.map(feature_name)
    }
}

/// The C name of a single `KVM_MAGIC_FEAT_*` mask (`"KVM_MAGIC_FEAT_SR"`); other values
/// give `"unnamed"`.
#[must_use]
pub fn feature_name(mask: MagicFeatures) -> &'static str {
    if mask == MagicFeatures::SR {
        "KVM_MAGIC_FEAT_SR"
    } else if mask == MagicFeatures::MAS0_TO_SPRG7 {
        "KVM_MAGIC_FEAT_MAS0_TO_SPRG7"
    } else {
        "unnamed"
    }
}

const SR: Option<MagicFeatures> = Some(MagicFeatures::SR);
const MAS: Option<MagicFeatures> = Some(MagicFeatures::MAS0_TO_SPRG7);

macro_rules! row {
    ($id:ident, $name:literal, $off:literal, $w:ident, $count:literal, $feat:expr, $swap:literal, $off32:literal, $note:literal) => {
        Field {
            id: FieldId::$id,
            name: $name,
            offset: $off,
            width: Width::$w,
            count: $count,
            feature: $feat,
            swapped: $swap,
            offset32: $off32,
            note: $note,
        }
    };
}

/// Every field of `struct kvm_vcpu_arch_shared`, in order
/// (`torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`). Columns: id, name,
/// offset, width, count, gate (`KVM_MAGIC_FEAT_*`), swapped by
/// `arch/powerpc/kvm/powerpc.c (kvmppc_swab_shared)`, 32-bit word offset
/// ([`Field::offset32`]), note.
#[rustfmt::skip]
pub static FIELDS: [Field; FIELD_COUNT] = [
    row!(Scratch1, "scratch1", 0x000, U64, 1, None, false, 0x000, "template scratch (saves r31); 32-bit templates use +0"),
    row!(Scratch2, "scratch2", 0x008, U64, 1, None, false, 0x008, "template scratch (saves r30); 32-bit templates use +0"),
    row!(Scratch3, "scratch3", 0x010, U64, 1, None, false, 0x010, "template scratch (saved CR, stored with stw at +0)"),
    row!(Critical, "critical", 0x018, U64, 1, None, false, 0x01c, "no interrupts are delivered while it equals r1"),
    row!(Sprg0, "sprg0", 0x020, U64, 1, None, true, 0x024, "SPRG0"),
    row!(Sprg1, "sprg1", 0x028, U64, 1, None, true, 0x02c, "SPRG1"),
    row!(Sprg2, "sprg2", 0x030, U64, 1, None, true, 0x034, "SPRG2"),
    row!(Sprg3, "sprg3", 0x038, U64, 1, None, true, 0x03c, "SPRG3"),
    row!(Srr0, "srr0", 0x040, U64, 1, None, true, 0x044, "SRR0"),
    row!(Srr1, "srr1", 0x048, U64, 1, None, true, 0x04c, "SRR1"),
    row!(Dar, "dar", 0x050, U64, 1, None, true, 0x054, "DAR (DEAR on BookE)"),
    row!(Msr, "msr", 0x058, U64, 1, None, true, 0x05c, "MSR; only EE and RI may be changed directly"),
    row!(Dsisr, "dsisr", 0x060, U32, 1, None, true, 0x060, "DSISR"),
    row!(IntPending, "int_pending", 0x064, U32, 1, None, true, 0x064, "1 while the host has an interrupt pending"),
    row!(Sr, "sr", 0x068, U32, 16, SR, true, 0x068, "segment registers sr[0..15] (Book3S-32)"),
    row!(Mas0, "mas0", 0x0a8, U32, 1, MAS, false, 0x0a8, "MAS0"),
    row!(Mas1, "mas1", 0x0ac, U32, 1, MAS, false, 0x0ac, "MAS1"),
    row!(Mas7_3, "mas7_3", 0x0b0, U64, 1, MAS, false, 0x0b4, "MAS7 (high word) and MAS3 (low word)"),
    row!(Mas2, "mas2", 0x0b8, U64, 1, MAS, false, 0x0bc, "MAS2"),
    row!(Mas4, "mas4", 0x0c0, U32, 1, MAS, false, 0x0c0, "MAS4"),
    row!(Mas6, "mas6", 0x0c4, U32, 1, MAS, false, 0x0c4, "MAS6"),
    row!(Esr, "esr", 0x0c8, U32, 1, MAS, false, 0x0c8, "ESR (BookE)"),
    row!(Pir, "pir", 0x0cc, U32, 1, MAS, false, 0x0cc, "PIR (read only)"),
    row!(Sprg4, "sprg4", 0x0d0, U64, 1, MAS, false, 0x0d4, "SPRG4"),
    row!(Sprg5, "sprg5", 0x0d8, U64, 1, MAS, false, 0x0dc, "SPRG5"),
    row!(Sprg6, "sprg6", 0x0e0, U64, 1, MAS, false, 0x0e4, "SPRG6"),
    row!(Sprg7, "sprg7", 0x0e8, U64, 1, MAS, false, 0x0ec, "SPRG7"),
];

/// A `#[repr(C)]` mirror of `struct kvm_vcpu_arch_shared`, field for field
/// (`torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`). Values are native
/// integers: use it as an owned snapshot ([`crate::magic::MagicPage::snapshot`]), never
/// by casting page bytes, whose order is the guest's. The kernel may append fields, so
/// build one with `Default::default()` and assign the fields.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct KvmVcpuArchShared {
    /// `scratch1`, offset 0x000.
    pub scratch1: u64,
    /// `scratch2`, offset 0x008.
    pub scratch2: u64,
    /// `scratch3`, offset 0x010.
    pub scratch3: u64,
    /// `critical`, offset 0x018.
    pub critical: u64,
    /// `sprg0`, offset 0x020.
    pub sprg0: u64,
    /// `sprg1`, offset 0x028.
    pub sprg1: u64,
    /// `sprg2`, offset 0x030.
    pub sprg2: u64,
    /// `sprg3`, offset 0x038.
    pub sprg3: u64,
    /// `srr0`, offset 0x040.
    pub srr0: u64,
    /// `srr1`, offset 0x048.
    pub srr1: u64,
    /// `dar`, offset 0x050.
    pub dar: u64,
    /// `msr`, offset 0x058.
    pub msr: u64,
    /// `dsisr`, offset 0x060.
    pub dsisr: u32,
    /// `int_pending`, offset 0x064.
    pub int_pending: u32,
    /// `sr`, offset 0x068.
    pub sr: [u32; 16],
    /// `mas0`, offset 0x0a8.
    pub mas0: u32,
    /// `mas1`, offset 0x0ac.
    pub mas1: u32,
    /// `mas7_3`, offset 0x0b0.
    pub mas7_3: u64,
    /// `mas2`, offset 0x0b8.
    pub mas2: u64,
    /// `mas4`, offset 0x0c0.
    pub mas4: u32,
    /// `mas6`, offset 0x0c4.
    pub mas6: u32,
    /// `esr`, offset 0x0c8.
    pub esr: u32,
    /// `pir`, offset 0x0cc.
    pub pir: u32,
    /// `sprg4`, offset 0x0d0.
    pub sprg4: u64,
    /// `sprg5`, offset 0x0d8.
    pub sprg5: u64,
    /// `sprg6`, offset 0x0e0.
    pub sprg6: u64,
    /// `sprg7`, offset 0x0e8.
    pub sprg7: u64,
}

/// Offsets the compiler computes for the mirror, in [`FieldId`] order.
const MIRROR_OFFSETS: [usize; FIELD_COUNT] = {
    type S = KvmVcpuArchShared;
    [
        offset_of!(S, scratch1),
        offset_of!(S, scratch2),
        offset_of!(S, scratch3),
        offset_of!(S, critical),
        offset_of!(S, sprg0),
        offset_of!(S, sprg1),
        offset_of!(S, sprg2),
        offset_of!(S, sprg3),
        offset_of!(S, srr0),
        offset_of!(S, srr1),
        offset_of!(S, dar),
        offset_of!(S, msr),
        offset_of!(S, dsisr),
        offset_of!(S, int_pending),
        offset_of!(S, sr),
        offset_of!(S, mas0),
        offset_of!(S, mas1),
        offset_of!(S, mas7_3),
        offset_of!(S, mas2),
        offset_of!(S, mas4),
        offset_of!(S, mas6),
        offset_of!(S, esr),
        offset_of!(S, pir),
        offset_of!(S, sprg4),
        offset_of!(S, sprg5),
        offset_of!(S, sprg6),
        offset_of!(S, sprg7),
    ]
};

// Compile-time proof that the hand-written table, the mirror and the kernel's rules agree:
// same offsets, fields contiguous and naturally aligned (no padding anywhere), the whole
// struct 240 bytes inside one page, ids in table order, 32-bit offsets inside the field.
const _: () = {
    assert!(size_of::<KvmVcpuArchShared>() == SHARED_SIZE);
    assert!(core::mem::align_of::<KvmVcpuArchShared>() == 8);
    assert!(SHARED_SIZE <= PAGE_SIZE);
    let mut i = 0;
    let mut end = 0;
    while i < FIELD_COUNT {
        let f = &FIELDS[i];
        assert!(f.id as usize == i);
        assert!(f.offset == MIRROR_OFFSETS[i]);
        assert!(f.offset == end);
        assert!(f.offset.is_multiple_of(f.width.bytes()));
        assert!(f.offset32 >= f.offset && f.offset32 + 4 <= f.offset + f.size());
        end = f.offset + f.size();
        i += 1;
    }
    assert!(end == SHARED_SIZE);
};

/// Renders the layout as a C header: the struct with offset comments, then one
/// `KVM_MAGIC_OFF_<NAME>` define per field (the 32-bit guest's word offsets when
/// `bits32`), then the feature masks.
#[must_use]
pub fn c_header(bits32: bool) -> String {
    use core::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "/* struct kvm_vcpu_arch_shared, as in linux arch/powerpc/include/uapi/asm/kvm_para.h.\n * Generated by ppcpv magic layout --c-header{}. */",
        if bits32 { " --bits 32" } else { "" }
    );
    s.push_str("#ifndef PPCPV_MAGIC_LAYOUT_H\n#define PPCPV_MAGIC_LAYOUT_H\n\n");
    s.push_str("#include <linux/types.h>\n\nstruct kvm_vcpu_arch_shared {\n");
    for f in &FIELDS {
        let decl = if f.count > 1 {
            format!("{} {}[{}];", f.width.c_type(), f.name, f.count)
        } else {
            format!("{} {};", f.width.c_type(), f.name)
        };
        let _ = writeln!(s, "\t{decl:<24}/* {:#05x} */", f.offset);
    }
    s.push_str("};\n\n");
    let what = if bits32 {
        "offset of the word a 32-bit guest accesses"
    } else {
        "offsetof"
    };
    let _ = writeln!(s, "/* {what} */");
    for f in &FIELDS {
        let off = if bits32 { f.offset32 } else { f.offset };
        let name = format!("KVM_MAGIC_OFF_{}", f.name.to_ascii_uppercase());
        let _ = writeln!(s, "#define {name:<32}{off:#05x}");
    }
    let _ = writeln!(s, "#define {:<32}{SHARED_SIZE}", "KVM_MAGIC_SHARED_SIZE");
    s.push('\n');
    let _ = writeln!(s, "#define {:<32}(1 << 0)", "KVM_MAGIC_FEAT_SR");
    let _ = writeln!(s, "#define {:<32}(1 << 1)", "KVM_MAGIC_FEAT_MAS0_TO_SPRG7");
    s.push_str("\n#endif /* PPCPV_MAGIC_LAYOUT_H */\n");
    s
}

/// Renders the layout as Rust source: a `#[repr(C)]` struct with offset comments and
/// compile-time asserts, then one offset constant per field (32-bit word offsets when
/// `bits32`).
#[must_use]
pub fn rust_source(bits32: bool) -> String {
    use core::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "// struct kvm_vcpu_arch_shared (linux arch/powerpc/include/uapi/asm/kvm_para.h).\n// Generated by `ppcpv magic layout --rust{}`.",
        if bits32 { " --bits 32" } else { "" }
    );
    s.push_str(
        "#[repr(C)]\n#[derive(Debug, Clone, Copy, Default)]\npub struct KvmVcpuArchShared {\n",
    );
    for f in &FIELDS {
        let ty = if f.count > 1 {
            format!("[{}; {}]", f.width.rust_type(), f.count)
        } else {
            f.width.rust_type().to_string()
        };
        let decl = format!("pub {}: {ty},", f.name);
        let _ = writeln!(s, "    {decl:<28}// {:#05x}", f.offset);
    }
    s.push_str("}\n\n");
    let _ = writeln!(
        s,
        "const _: () = assert!(core::mem::size_of::<KvmVcpuArchShared>() == {SHARED_SIZE});"
    );
    for f in &FIELDS {
        let _ = writeln!(
            s,
            "const _: () = assert!(core::mem::offset_of!(KvmVcpuArchShared, {}) == {:#05x});",
            f.name, f.offset
        );
    }
    s.push('\n');
    for f in &FIELDS {
        let off = if bits32 { f.offset32 } else { f.offset };
        let _ = writeln!(
            s,
            "pub const KVM_MAGIC_OFF_{}: usize = {off:#05x};",
            f.name.to_ascii_uppercase()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ids_index_the_table() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert_eq!(f.id as usize, i);
            assert_eq!(FieldId::from_name(f.name), Some(f.id));
            assert_eq!(f.id.name(), f.name);
            assert_eq!(FieldId::ALL[i], f.id);
        }
        assert_eq!(FieldId::from_name("SPRG0"), None);
        assert_eq!(FieldId::from_name("epr"), None);
    }

    #[test]
    fn reference_rows() {
        // Spot checks against the kernel header's offsets, counted by hand.
        let mas = FieldId::Mas7_3.field();
        assert_eq!((mas.offset, mas.size(), mas.offset32), (176, 8, 180));
        let sr = FieldId::Sr.field();
        assert_eq!((sr.offset, sr.size(), sr.count), (104, 64, 16));
        assert_eq!(sr.element_offset(15), Some(104 + 60));
        assert_eq!(sr.element_offset(16), None);
        assert_eq!(FieldId::Critical.field().offset32, 0x1c);
        assert_eq!(FieldId::Scratch3.field().offset32, 0x10);
        assert_eq!(FieldId::Sprg7.field().ea64(), 0xFFFF_FFFF_FFFF_F0E8);
        // The swapped subset is exactly kvmppc_swab_shared's.
        let swapped: Vec<&str> = FIELDS
            .iter()
            .filter(|f| f.swapped)
            .map(|f| f.name)
            .collect();
        assert_eq!(
            swapped,
            [
                "sprg0",
                "sprg1",
                "sprg2",
                "sprg3",
                "srr0",
                "srr1",
                "dar",
                "msr",
                "dsisr",
                "int_pending",
                "sr"
            ]
        );
    }

    #[test]
    fn gates() {
        let mas0 = FieldId::Mas0.field();
        assert!(!mas0.available(MagicFeatures::SR));
        assert!(mas0.available(MagicFeatures::MAINLINE));
        assert_eq!(mas0.feature_name(), Some("KVM_MAGIC_FEAT_MAS0_TO_SPRG7"));
        assert_eq!(
            FieldId::Sr.field().feature_name(),
            Some("KVM_MAGIC_FEAT_SR")
        );
        assert!(FieldId::Msr.field().available(MagicFeatures::NONE));
        assert_eq!(feature_name(MagicFeatures(4)), "unnamed");
    }

    #[test]
    fn renderers_mention_every_field() {
        let c = c_header(false);
        let r = rust_source(true);
        for f in &FIELDS {
            assert!(c.contains(&format!(" {}", f.name)), "{}", f.name);
            assert!(r.contains(&format!("pub {}:", f.name)), "{}", f.name);
        }
        assert!(c.lines().any(|l| l.split_whitespace().eq([
            "#define",
            "KVM_MAGIC_OFF_MAS7_3",
            "0x0b0"
        ])));
        assert!(r.contains("pub const KVM_MAGIC_OFF_MAS7_3: usize = 0x0b4;"));
    }
}
