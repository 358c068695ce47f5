//! Feature sets a PowerPC KVM host reports.
//!
//! Two different kinds of value travel back in r4, and they are different types here so
//! they cannot be mixed up: one is a list of bit *numbers*, the other a set of *masks*,
//! and both have a "bit 1" that means something unrelated:
//!
//! * `KVM_HC_FEATURES` answers a set of `KVM_FEATURE_*` **bit numbers**
//!   ([`KvmFeature`], collected in [`KvmFeatures`]): `KVM_FEATURE_MAGIC_PAGE` = 1 means
//!   mask `1 << 1`.
//! * `KVM_HC_PPC_MAP_MAGIC_PAGE` answers `KVM_MAGIC_FEAT_*` **masks**
//!   ([`MagicFeatures`]): `KVM_MAGIC_FEAT_SR` = `1 << 0`,
//!   `KVM_MAGIC_FEAT_MAS0_TO_SPRG7` = `1 << 1`.
//!
//! Source: `torvalds/linux: arch/powerpc/include/uapi/asm/kvm_para.h`. Unknown bits are
//! kept, never dropped, and listed by [`KvmFeatures::unknown`] / [`MagicFeatures::unknown`].
//!
//! Guest side: Linux's `kvm_arch_para_features()`
//! (`torvalds/linux: arch/powerpc/include/asm/kvm_para.h`) turns
//! any nonzero r3 of `KVM_HC_FEATURES` into "no features", else takes r4
//! ([`KvmFeatures::from_hcall`]); `kvm_map_magic_page()` ignores MAP's r3 and keeps r4
//! ([`MagicFeatures::from_map_r4`], `arch/powerpc/kernel/kvm.c`). The masks `EPR` (0x4)
//! and `MPIC_CTPR` (0x8) exist only in a Freescale SDK kernel fork, not in mainline, so
//! they stay unnamed here (reported as unknown bits, never dropped).

/// A `KVM_FEATURE_*` bit **number** (not a mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KvmFeature(pub u32);

impl KvmFeature {
    /// `KVM_FEATURE_MAGIC_PAGE` = 1: the magic-page hypercall exists.
    pub const MAGIC_PAGE: KvmFeature = KvmFeature(1);

    /// The mask of this bit in r4 (`1 << n`), or 0 for bit numbers of 64 or more.
    #[must_use]
    pub const fn mask(self) -> u64 {
        if self.0 < 64 { 1u64 << self.0 } else { 0 }
    }

    /// The C name of a known bit (`KVM_FEATURE_MAGIC_PAGE`), `None` otherwise.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("KVM_FEATURE_MAGIC_PAGE"),
            _ => None,
        }
    }

    /// What a known bit means, `None` otherwise.
    #[must_use]
    pub const fn meaning(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("the KVM_HC_PPC_MAP_MAGIC_PAGE hypercall exists"),
            _ => None,
        }
    }
}

/// Every named `KVM_FEATURE_*` bit.
pub const KNOWN_KVM_FEATURES: [KvmFeature; 1] = [KvmFeature::MAGIC_PAGE];

/// The set bits of a `u64`, lowest first, as bit numbers (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct SetBits(u64);

impl Iterator for SetBits {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        if self.0 == 0 {
            return None;
        }
        let n = self.0.trailing_zeros();
        self.0 &= self.0 - 1; // clears the lowest set bit; cannot underflow, 0 returned above
        Some(n)
    }
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

    /// What a Linux guest concludes from `KVM_HC_FEATURES`' answer
    /// (`kvm_arch_para_features`): any nonzero r3 means no features,
    /// otherwise r4 is the set.
    ///
    /// ```
    /// use ppcpv::hcall::{KvmFeature, KvmFeatures};
    /// assert!(KvmFeatures::from_hcall(0, 0x2).has(KvmFeature::MAGIC_PAGE));
    /// assert_eq!(KvmFeatures::from_hcall(12, 0x2), KvmFeatures::NONE);
    /// assert_eq!(KvmFeatures::from_hcall(u64::MAX, 0x2), KvmFeatures::NONE); // stub's -1
    /// ```
    #[must_use]
    pub const fn from_hcall(r3: u64, r4: u64) -> KvmFeatures {
        if r3 != 0 {
            KvmFeatures::NONE
        } else {
            KvmFeatures(r4)
        }
    }

    /// The set bits, lowest first.
    pub const fn iter(self) -> impl Iterator<Item = KvmFeature> {
        KvmFeatureIter(SetBits(self.0))
    }

    /// The bits without a name (kept, not dropped).
    #[must_use]
    pub const fn unknown(self) -> u64 {
        let mut known = 0u64;
        let mut i = 0;
        while i < KNOWN_KVM_FEATURES.len() {
            known |= KNOWN_KVM_FEATURES[i].mask();
            i += 1;
        }
        self.0 & !known
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: KvmFeatures) -> KvmFeatures {
        KvmFeatures(self.0 | other.0)
    }

    /// The set holding just `f` (empty for bit numbers of 64 or more).
    #[must_use]
    pub const fn of(f: KvmFeature) -> KvmFeatures {
        KvmFeatures(f.mask())
    }
}

#[derive(Debug, Clone, Copy)]
struct KvmFeatureIter(SetBits);

impl Iterator for KvmFeatureIter {
    type Item = KvmFeature;
    fn next(&mut self) -> Option<KvmFeature> {
        self.0.next().map(KvmFeature)
    }
}

/// Writes the members of a feature set joined by ` | `, or `none` when it is empty.
fn write_set<T>(
    f: &mut core::fmt::Formatter<'_>,
    members: impl Iterator<Item = T>,
    mut one: impl FnMut(&mut core::fmt::Formatter<'_>, T) -> core::fmt::Result,
) -> core::fmt::Result {
    let mut first = true;
    for m in members {
        if !first {
            f.write_str(" | ")?;
        }
        first = false;
        one(f, m)?;
    }
    if first {
        f.write_str("none")?;
    }
    Ok(())
}

impl core::fmt::Display for KvmFeatures {
    /// `KVM_FEATURE_MAGIC_PAGE | bit 5`, or `none`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write_set(f, self.iter(), |f, b| match b.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "bit {}", b.0),
        })
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

    /// What a Linux guest keeps from MAP's answer: r4 only; r3 is ignored
    /// (`kvm_map_magic_page` in `arch/powerpc/kernel/kvm.c`).
    #[must_use]
    pub const fn from_map_r4(r4: u64) -> MagicFeatures {
        MagicFeatures(r4)
    }

    /// The set bits, lowest first, each as a one-bit set.
    pub const fn iter(self) -> impl Iterator<Item = MagicFeatures> {
        MagicIter(SetBits(self.0))
    }

    /// The C name of a one-bit mainline mask (`KVM_MAGIC_FEAT_SR`,
    /// `KVM_MAGIC_FEAT_MAS0_TO_SPRG7`), `None` for anything else.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            0x1 => Some("KVM_MAGIC_FEAT_SR"),
            0x2 => Some("KVM_MAGIC_FEAT_MAS0_TO_SPRG7"),
            _ => None,
        }
    }

    /// What a one-bit mainline mask says about the page, `None` otherwise.
    #[must_use]
    pub const fn meaning(self) -> Option<&'static str> {
        match self.0 {
            0x1 => Some("segment registers sr[16] are in the page"),
            0x2 => Some("MAS0-MAS7, ESR, PIR and SPRG4-7 are in the page"),
            _ => None,
        }
    }

    /// The bits without a mainline name (kept, not dropped).
    #[must_use]
    pub const fn unknown(self) -> u64 {
        self.0 & !MagicFeatures::MAINLINE.0
    }
}

#[derive(Debug, Clone, Copy)]
struct MagicIter(SetBits);

impl Iterator for MagicIter {
    type Item = MagicFeatures;
    fn next(&mut self) -> Option<MagicFeatures> {
        // Bit numbers from SetBits are < 64, so the shift cannot overflow.
        self.0.next().map(|n| MagicFeatures(1u64 << n))
    }
}

impl core::fmt::Display for MagicFeatures {
    /// `KVM_MAGIC_FEAT_SR | KVM_MAGIC_FEAT_MAS0_TO_SPRG7 | 0x4`, or `none`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write_set(f, self.iter(), |f, b| match b.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{:#x}", b.0),
        })
    }
}

impl core::ops::BitOr for MagicFeatures {
    type Output = MagicFeatures;
    fn bitor(self, rhs: MagicFeatures) -> MagicFeatures {
        self.union(rhs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_values_match_kvm_para_h() {
        // uapi kvm_para.h: KVM_FEATURE_MAGIC_PAGE = 1 (bit number, mask 0x2);
        // KVM_MAGIC_FEAT_SR = 1 << 0, KVM_MAGIC_FEAT_MAS0_TO_SPRG7 = 1 << 1.
        assert_eq!(KvmFeature::MAGIC_PAGE.0, 1);
        assert_eq!(KvmFeature::MAGIC_PAGE.mask(), 0x2);
        assert_eq!(
            KvmFeature::MAGIC_PAGE.name(),
            Some("KVM_FEATURE_MAGIC_PAGE")
        );
        assert_eq!(MagicFeatures::SR.bits(), 0x1);
        assert_eq!(MagicFeatures::MAS0_TO_SPRG7.bits(), 0x2);
        assert_eq!(
            MagicFeatures::SR | MagicFeatures::MAS0_TO_SPRG7,
            MagicFeatures::MAINLINE
        );
        assert_eq!(MagicFeatures::SR.name(), Some("KVM_MAGIC_FEAT_SR"));
        assert_eq!(
            MagicFeatures::MAS0_TO_SPRG7.name(),
            Some("KVM_MAGIC_FEAT_MAS0_TO_SPRG7")
        );
        // The SDK-only masks are not named.
        assert_eq!(MagicFeatures(0x4).name(), None);
        assert_eq!(MagicFeatures(0x8).name(), None);
    }

    #[test]
    fn guest_decodes_features_the_linux_way() {
        // kvm_arch_para_features: nonzero r3 -> no features, else r4.
        assert_eq!(KvmFeatures::from_hcall(0, 0x2), KvmFeatures(0x2));
        assert_eq!(KvmFeatures::from_hcall(0, 0), KvmFeatures::NONE);
        assert_eq!(KvmFeatures::from_hcall(12, 0x2), KvmFeatures::NONE);
        assert_eq!(KvmFeatures::from_hcall(u64::MAX, 0xffff), KvmFeatures::NONE);
        // kvm_map_magic_page: MAP's r3 is ignored, r4 kept.
        assert_eq!(MagicFeatures::from_map_r4(0x3), MagicFeatures::MAINLINE);
    }

    #[test]
    fn unknown_bits_are_kept() {
        let f = KvmFeatures(0x8000_0000_0000_0022);
        assert!(f.has(KvmFeature::MAGIC_PAGE));
        assert!(f.has(KvmFeature(5)));
        assert!(!f.has(KvmFeature(64)));
        assert_eq!(f.unknown(), 0x8000_0000_0000_0020);
        let bits: Vec<u32> = f.iter().map(|b| b.0).collect();
        assert_eq!(bits, [1, 5, 63]);
        assert_eq!(f.to_string(), "KVM_FEATURE_MAGIC_PAGE | bit 5 | bit 63");
        assert_eq!(KvmFeatures::NONE.to_string(), "none");
        assert_eq!(KvmFeatures::of(KvmFeature::MAGIC_PAGE), KvmFeatures(0x2));
        assert_eq!(KvmFeatures::of(KvmFeature(99)), KvmFeatures::NONE);

        let m = MagicFeatures(0xf);
        assert_eq!(m.unknown(), 0xc);
        assert_eq!(
            m.to_string(),
            "KVM_MAGIC_FEAT_SR | KVM_MAGIC_FEAT_MAS0_TO_SPRG7 | 0x4 | 0x8"
        );
        assert!(m.contains(MagicFeatures::MAINLINE));
        assert_eq!(MagicFeatures(u64::MAX).iter().count(), 64);
        assert_eq!(MagicFeatures::NONE.to_string(), "none");
    }
}
