//! Feature sets a PowerPC KVM host reports.
//!
//! Two different kinds of value travel back in r4, and they are different types here so
//! they cannot be mixed (decision D6 in `kvm-ppc-pv.md`):
//!
//! * `KVM_HC_FEATURES` answers a set of `KVM_FEATURE_*` **bit numbers**
//!   ([`KvmFeature`], collected in [`KvmFeatures`]): `KVM_FEATURE_MAGIC_PAGE` = 1 means
//!   mask `1 << 1`.
//! * `KVM_HC_PPC_MAP_MAGIC_PAGE` answers `KVM_MAGIC_FEAT_*` **masks**
//!   ([`MagicFeatures`]): `KVM_MAGIC_FEAT_SR` = `1 << 0`,
//!   `KVM_MAGIC_FEAT_MAS0_TO_SPRG7` = `1 << 1`.
//!
//! Source: `torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`. Unknown bits are
//! kept, never dropped.

/// A `KVM_FEATURE_*` bit **number** (not a mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KvmFeature(pub u32);

impl KvmFeature {
    /// `KVM_FEATURE_MAGIC_PAGE` = 1: the magic-page hypercall exists.
    pub const MAGIC_PAGE: KvmFeature = KvmFeature(1);
}

/// The r4 of a successful `KVM_HC_FEATURES`: a set of [`KvmFeature`] bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KvmFeatures(pub u64);

impl KvmFeatures {
    /// No features.
    pub const NONE: KvmFeatures = KvmFeatures(0);

    /// Whether bit `f` is set (`kvm_para_has_feature`: `r4 & (1 << f)`). Bit numbers of
    /// 64 or more are never set.
    #[must_use]
    pub const fn has(self, f: KvmFeature) -> bool {
        f.0 < 64 && self.0 & (1u64 << f.0) != 0
    }

    /// The raw r4 value.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }
}

/// The r4 of `KVM_HC_PPC_MAP_MAGIC_PAGE`: `KVM_MAGIC_FEAT_*` **masks**, saying which
/// fields of the shared page exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MagicFeatures(pub u64);

impl MagicFeatures {
    /// No optional fields.
    pub const NONE: MagicFeatures = MagicFeatures(0);
    /// `KVM_MAGIC_FEAT_SR` = `1 << 0`: segment registers `sr[16]` are in the page.
    pub const SR: MagicFeatures = MagicFeatures(1 << 0);
    /// `KVM_MAGIC_FEAT_MAS0_TO_SPRG7` = `1 << 1`: MASn, ESR, PIR and SPRG4–7 are in the page.
    pub const MAS0_TO_SPRG7: MagicFeatures = MagicFeatures(1 << 1);
    /// What mainline KVM answers to every MAP call: `SR | MAS0_TO_SPRG7` = 0x3.
    pub const MAINLINE: MagicFeatures = MagicFeatures(0x3);

    /// The raw mask.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: MagicFeatures) -> bool {
        self.0 & other.0 == other.0
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: MagicFeatures) -> MagicFeatures {
        MagicFeatures(self.0 | other.0)
    }
}

impl std::ops::BitOr for MagicFeatures {
    type Output = MagicFeatures;
    fn bitor(self, rhs: MagicFeatures) -> MagicFeatures {
        self.union(rhs)
    }
}
