//! The guest's paravirtual patching: which privileged instructions a Linux guest
//! rewrites into loads and stores on the magic page (or branches to small templates),
//! and a scanner that finds them in a code image.
//!
//! Once a KVM guest has mapped the magic page at -4096, `kvm_use_magic_page` walks the
//! kernel text and rewrites each matching word (`torvalds/linux:
//! arch/powerpc/kernel/kvm.c (kvm_check_ins)`):
//!
//! * `mfmsr`, `mfspr`/`mtspr` of SPRG0–7, SRR0/1, DAR/DEAR, DSISR, MASn, ESR, PIR
//!   become `ld`/`lwz`/`std`/`stw` at the field's displacement (`RA = 0`); a 32-bit
//!   kernel reaches a u64 field's low word at `+4`;
//! * `tlbsync` becomes `nop`;
//! * `mtmsr`, `mtmsrd`, `wrtee`, `wrteei`, `mtsrin` become a branch to a copy of a
//!   `kvm_emul.S` template.
//!
//! What is patched depends on the kernel's configuration ([`Config`]: word size,
//! BookE or Book3S, `CONFIG_PPC_BOOK3E_MMU`) and on the feature mask the host returned
//! ([`MagicFeatures`](crate::hcall::MagicFeatures)). [`check`] answers for one word;
//! [`scan()`] streams over an image; [`write_patched`] writes a copy with the direct
//! rewrites applied.

pub mod config;
pub mod image;
pub mod rules;
pub mod scan;

pub use config::{Config, ConfigError, Family, WordSize};
pub use image::{CodeRegion, ElfInfo, Format, Image, ImageError, locate};
pub use rules::{
    Decision, MagicAccess, MemOp, Outcome, OutcomeClass, PATTERNS, Pattern, Reason, Rewrite,
    Template, TemplateBranch, check, classify,
};
pub use scan::{ApplyStats, SEGMENT_BYTES, ScanConfig, Site, Tally, Totals, scan};
#[cfg(feature = "std")]
pub use scan::{scan_parallel, write_patched};
