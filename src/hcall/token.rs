//! Hypercall tokens: the value a PowerPC guest puts in r11, `vendor << 16 | number`.
//!
//! Sources: `torvalds/linux: arch/powerpc/include/uapi/asm/epapr_hcalls.h`
//! (`_EV_HCALL_TOKEN(id, num)` = `((id) << 16) | (num)`, the `EV_*_VENDOR_ID` list) and
//! `arch/powerpc/include/uapi/asm/kvm_para.h` (`KVM_HCALL_TOKEN(num)` with vendor 42).
//!
//! Two hosts, two ways of matching. KVM's `kvmppc_kvm_pv`
//! (`torvalds/linux: arch/powerpc/kvm/powerpc.c`) switches on the whole 32-bit r11 value,
//! so a token with bit 31 set or with vendor 0 matches nothing and the guest gets
//! `EV_UNIMPLEMENTED`. [`HcallToken::lookup`] and [`HcallToken::vendor`] follow KVM,
//! because KVM is the host this crate models. The Topaz hypervisor decodes differently,
//! masking bit 31 and taking vendor 0 as ePAPR for backward compatibility;
//! [`HcallToken::topaz`] reproduces that for anyone targeting it
//! (`nxp-qoriq-yocto-sdk/hypervisor: src/hcalls.c (hcall)`).

use core::fmt;

/// A hypercall vendor ID, the upper 16 bits of a token (`EV_*_VENDOR_ID`).
///
/// Unknown IDs are kept in [`Vendor::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Vendor {
    /// `EV_LOCAL_VENDOR_ID` = 0: local / private use.
    Local,
    /// `EV_EPAPR_VENDOR_ID` = 1 (libos: `EV_VENDOR_ID`): the ePAPR hypercalls.
    Epapr,
    /// `EV_FSL_VENDOR_ID` = 2: Freescale Semiconductor (Topaz `FH_*`).
    Freescale,
    /// `EV_IBM_VENDOR_ID` = 3: IBM.
    Ibm,
    /// `EV_GHS_VENDOR_ID` = 4: Green Hills Software.
    GreenHills,
    /// `EV_ENEA_VENDOR_ID` = 5: Enea.
    Enea,
    /// `EV_WR_VENDOR_ID` = 6: Wind River Systems.
    WindRiver,
    /// `EV_AMCC_VENDOR_ID` = 7: Applied Micro Circuits.
    Amcc,
    /// `EV_KVM_VENDOR_ID` = 42: KVM.
    Kvm,
    /// Any other vendor ID, kept as it was.
    Other(u16),
}

/// Every named vendor, in ID order (for listings).
pub const VENDORS: [Vendor; 9] = [
    Vendor::Local,
    Vendor::Epapr,
    Vendor::Freescale,
    Vendor::Ibm,
    Vendor::GreenHills,
    Vendor::Enea,
    Vendor::WindRiver,
    Vendor::Amcc,
    Vendor::Kvm,
];

impl Vendor {
    /// The vendor for an ID; unknown IDs become [`Vendor::Other`].
    #[must_use]
    pub const fn from_id(id: u16) -> Vendor {
        // The EV_*_VENDOR_ID list of epapr_hcalls.h.
        match id {
            0 => Vendor::Local,
            1 => Vendor::Epapr,
            2 => Vendor::Freescale,
            3 => Vendor::Ibm,
            4 => Vendor::GreenHills,
            5 => Vendor::Enea,
            6 => Vendor::WindRiver,
            7 => Vendor::Amcc,
            42 => Vendor::Kvm,
            n => Vendor::Other(n),
        }
    }

    /// The numeric vendor ID.
    #[must_use]
    pub const fn id(self) -> u16 {
        match self {
            Vendor::Local => 0,
            Vendor::Epapr => 1,
            Vendor::Freescale => 2,
            Vendor::Ibm => 3,
            Vendor::GreenHills => 4,
            Vendor::Enea => 5,
            Vendor::WindRiver => 6,
            Vendor::Amcc => 7,
            Vendor::Kvm => 42,
            Vendor::Other(n) => n,
        }
    }

    /// The C macro naming the ID (`EV_KVM_VENDOR_ID`), or `None` for unknown IDs.
    #[must_use]
    pub const fn macro_name(self) -> Option<&'static str> {
        Some(match self {
            Vendor::Local => "EV_LOCAL_VENDOR_ID",
            Vendor::Epapr => "EV_EPAPR_VENDOR_ID",
            Vendor::Freescale => "EV_FSL_VENDOR_ID",
            Vendor::Ibm => "EV_IBM_VENDOR_ID",
            Vendor::GreenHills => "EV_GHS_VENDOR_ID",
            Vendor::Enea => "EV_ENEA_VENDOR_ID",
            Vendor::WindRiver => "EV_WR_VENDOR_ID",
            Vendor::Amcc => "EV_AMCC_VENDOR_ID",
            Vendor::Kvm => "EV_KVM_VENDOR_ID",
            Vendor::Other(_) => return None,
        })
    }

    /// A short lower-case name as used on the command line (`kvm`, `epapr`, `fsl`, …);
    /// `None` for unknown IDs.
    #[must_use]
    pub const fn short_name(self) -> Option<&'static str> {
        Some(match self {
            Vendor::Local => "local",
            Vendor::Epapr => "epapr",
            Vendor::Freescale => "fsl",
            Vendor::Ibm => "ibm",
            Vendor::GreenHills => "ghs",
            Vendor::Enea => "enea",
            Vendor::WindRiver => "wr",
            Vendor::Amcc => "amcc",
            Vendor::Kvm => "kvm",
            Vendor::Other(_) => return None,
        })
    }

    /// The vendor's full name ("Freescale Semiconductor"), or "unknown vendor".
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Vendor::Local => "local / private use",
            Vendor::Epapr => "ePAPR",
            Vendor::Freescale => "Freescale Semiconductor",
            Vendor::Ibm => "IBM",
            Vendor::GreenHills => "Green Hills Software",
            Vendor::Enea => "Enea",
            Vendor::WindRiver => "Wind River Systems",
            Vendor::Amcc => "Applied Micro Circuits",
            Vendor::Kvm => "KVM",
            Vendor::Other(_) => "unknown vendor",
        }
    }

    /// Parses a vendor as typed by a person: a short name (`kvm`, `epapr`, `fsl`,
    /// `freescale`, `ibm`, `ghs`, `enea`, `wr`, `windriver`, `amcc`, `local`, case
    /// ignored) or a number (decimal or 0x hex, at most 0xffff).
    ///
    /// ```
    /// use ppcpv::hcall::Vendor;
    /// assert_eq!(Vendor::parse("kvm"), Some(Vendor::Kvm));
    /// assert_eq!(Vendor::parse("0x2a"), Some(Vendor::Kvm));
    /// assert_eq!(Vendor::parse("99"), Some(Vendor::Other(99)));
    /// assert_eq!(Vendor::parse("nobody"), None);
    /// assert_eq!(Vendor::parse(" 42"), None);
    /// ```
    #[must_use]
    pub fn parse(text: &str) -> Option<Vendor> {
        // Names in any case; numbers as everywhere ([`crate::num::parse_u64`]): no
        // blanks around them.
        let t = text.to_ascii_lowercase();
        let named = match t.as_str() {
            "local" => Vendor::Local,
            "epapr" => Vendor::Epapr,
            "fsl" | "freescale" => Vendor::Freescale,
            "ibm" => Vendor::Ibm,
            "ghs" | "greenhills" | "green-hills" => Vendor::GreenHills,
            "enea" => Vendor::Enea,
            "wr" | "windriver" | "wind-river" => Vendor::WindRiver,
            "amcc" => Vendor::Amcc,
            "kvm" => Vendor::Kvm,
            _ => {
                let n = crate::num::parse_u64(&t).ok()?;
                return u16::try_from(n).ok().map(Vendor::from_id);
            }
        };
        Some(named)
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Vendor::Other(n) => write!(f, "vendor {n}"),
            v => f.write_str(v.description()),
        }
    }
}

/// A hypercall token: `vendor << 16 | number`, as loaded into r11.
///
/// ```
/// use ppcpv::hcall::{HcallToken, Vendor};
/// // KVM_HCALL_TOKEN(KVM_HC_FEATURES) = 42 << 16 | 3 = 0x002A0003.
/// let t = HcallToken::kvm(3);
/// assert_eq!(t.raw(), 0x002a_0003);
/// assert_eq!(t.vendor(), Vendor::Kvm);
/// assert_eq!(t.number(), 3);
/// assert_eq!(t.lookup().map(|h| h.name), Some("KVM_HC_FEATURES"));
/// assert_eq!(HcallToken::from_raw(0x0001_0010).lookup().map(|h| h.name), Some("EV_IDLE"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HcallToken(pub u32);

/// Which of its two tables Topaz dispatches a token to
/// (`nxp-qoriq-yocto-sdk/hypervisor: src/hcalls.c (hcall)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TopazTable {
    /// `epapr_hcall_table`: vendor 1, or vendor 0 for backward compatibility.
    Epapr,
    /// `fsl_hcall_table`: every other vendor.
    Freescale,
}

/// How Topaz reads a token: bit 31 masked off, vendor 0 taken as ePAPR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TopazDecode {
    /// The vendor after masking: `(t & 0x7fffffff) >> 16`.
    pub vendor_id: u16,
    /// The number: `t & 0xffff`.
    pub number: u16,
    /// The table Topaz consults.
    pub table: TopazTable,
}

impl TopazTable {
    /// `epapr` or `fsl`, as the command line prints it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            TopazTable::Epapr => "epapr",
            TopazTable::Freescale => "fsl",
        }
    }
}

impl TopazDecode {
    /// The registry entry for the hypercall Topaz would look up, if it is named.
    #[must_use]
    pub fn lookup(self) -> Option<&'static super::registry::Hypercall> {
        let vendor = match self.table {
            TopazTable::Epapr => Vendor::Epapr,
            TopazTable::Freescale => Vendor::Freescale,
        };
        super::registry::find(vendor, self.number)
    }
}

impl HcallToken {
    /// `_EV_HCALL_TOKEN(vendor, number)`.
    #[must_use]
    pub const fn new(vendor: Vendor, number: u16) -> HcallToken {
        HcallToken(((vendor.id() as u32) << 16) | number as u32)
    }

    /// The token as found in r11 (only the low 32 bits count).
    #[must_use]
    pub const fn from_raw(raw: u32) -> HcallToken {
        HcallToken(raw)
    }

    /// `KVM_HCALL_TOKEN(number)`: vendor 42.
    #[must_use]
    pub const fn kvm(number: u16) -> HcallToken {
        HcallToken::new(Vendor::Kvm, number)
    }

    /// `EV_HCALL_TOKEN(number)`: vendor 1 (ePAPR).
    #[must_use]
    pub const fn epapr(number: u16) -> HcallToken {
        HcallToken::new(Vendor::Epapr, number)
    }

    /// `FH_HCALL_TOKEN(number)`: vendor 2 (Freescale / Topaz).
    #[must_use]
    pub const fn fsl(number: u16) -> HcallToken {
        HcallToken::new(Vendor::Freescale, number)
    }

    /// The 32-bit value for r11.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// The vendor ID, all 16 upper bits (bit 31 included, as KVM compares it).
    #[must_use]
    pub const fn vendor_id(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The vendor, all 16 upper bits (bit 31 included, as KVM compares it).
    #[must_use]
    pub const fn vendor(self) -> Vendor {
        Vendor::from_id(self.vendor_id())
    }

    /// The hypercall number, the low 16 bits.
    #[must_use]
    pub const fn number(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// The registry entry with exactly this vendor and number (KVM semantics: whole
    /// token, no aliases), or `None`.
    #[must_use]
    pub fn lookup(self) -> Option<&'static super::registry::Hypercall> {
        super::registry::find(self.vendor(), self.number())
    }

    /// The entry's name, or `None` when the token names no known hypercall.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        self.lookup().map(|h| h.name)
    }

    /// Decodes the token the way Topaz does: `HCALL_GET_VENDOR_ID(t)` =
    /// `(t & 0x7fffffff) >> 16`; vendor 1 or 0 selects the ePAPR table, any other
    /// vendor the Freescale table (`nxp-qoriq-yocto-sdk/hypervisor: src/hcalls.c`).
    ///
    /// ```
    /// use ppcpv::hcall::{HcallToken, TopazTable};
    /// let d = HcallToken::from_raw(0x8001_0010).topaz();
    /// assert_eq!((d.vendor_id, d.number, d.table), (1, 16, TopazTable::Epapr));
    /// assert_eq!(HcallToken::from_raw(0x0000_0001).topaz().table, TopazTable::Epapr);
    /// ```
    #[must_use]
    pub const fn topaz(self) -> TopazDecode {
        let vendor_id = ((self.0 & 0x7fff_ffff) >> 16) as u16;
        let table = if vendor_id == 0 || vendor_id == 1 {
            TopazTable::Epapr
        } else {
            TopazTable::Freescale
        };
        TopazDecode {
            vendor_id,
            number: self.number(),
            table,
        }
    }
}

impl fmt::Display for HcallToken {
    /// Eight hex digits, as tokens are usually written: `0x002a0003`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl From<u32> for HcallToken {
    fn from(raw: u32) -> Self {
        HcallToken(raw)
    }
}

impl From<HcallToken> for u32 {
    fn from(t: HcallToken) -> Self {
        t.0
    }
}

/// Why a token and a hypercall enum do not convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token's vendor is not KVM (42), so it names no `KVM_HC_*` call.
    #[error("token {0} is not a KVM hypercall (vendor {vendor}, KVM is 42)", vendor = .0.vendor_id())]
    NotKvm(HcallToken),
    /// The `KVM_HC_*` number does not fit the 16-bit number field of a token.
    #[error("KVM hypercall number {0} does not fit the 16 bits of a token")]
    NumberTooLarge(u64),
}

impl TryFrom<super::registry::KvmHc> for HcallToken {
    type Error = TokenError;

    /// `KVM_HCALL_TOKEN(n)`. Every named `KVM_HC_*` converts; only an
    /// [`Unknown`](super::registry::KvmHc::Unknown) number above 0xffff fails, which is
    /// why this is `TryFrom` and not `From`.
    ///
    /// ```
    /// use ppcpv::hcall::{HcallToken, KvmHc};
    /// assert_eq!(HcallToken::try_from(KvmHc::Features), Ok(HcallToken::kvm(3)));
    /// assert_eq!(KvmHc::try_from(HcallToken::kvm(4)), Ok(KvmHc::PpcMapMagicPage));
    /// assert!(KvmHc::try_from(HcallToken::epapr(16)).is_err());
    /// ```
    fn try_from(hc: super::registry::KvmHc) -> Result<Self, TokenError> {
        let n = hc.number();
        u16::try_from(n)
            .map(HcallToken::kvm)
            .map_err(|_| TokenError::NumberTooLarge(n))
    }
}

impl TryFrom<HcallToken> for super::registry::KvmHc {
    type Error = TokenError;

    /// The `KVM_HC_*` call of a vendor-42 token; other vendors fail.
    fn try_from(t: HcallToken) -> Result<Self, TokenError> {
        if t.vendor() == Vendor::Kvm {
            Ok(super::registry::KvmHc::from_number(u64::from(t.number())))
        } else {
            Err(TokenError::NotKvm(t))
        }
    }
}

impl From<&super::registry::Hypercall> for HcallToken {
    /// The token of a registry entry (ePAPR `EV_*` and Freescale `FH_*` calls included).
    fn from(h: &super::registry::Hypercall) -> Self {
        h.token()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_ids_match_epapr_hcalls_h() {
        // epapr_hcalls.h EV_*_VENDOR_ID.
        let expected = [
            (Vendor::Local, 0),
            (Vendor::Epapr, 1),
            (Vendor::Freescale, 2),
            (Vendor::Ibm, 3),
            (Vendor::GreenHills, 4),
            (Vendor::Enea, 5),
            (Vendor::WindRiver, 6),
            (Vendor::Amcc, 7),
            (Vendor::Kvm, 42),
        ];
        for (v, id) in expected {
            assert_eq!(v.id(), id);
            assert_eq!(Vendor::from_id(id), v);
            assert!(v.macro_name().is_some());
            assert_eq!(Vendor::parse(v.short_name().unwrap()), Some(v));
        }
        assert_eq!(VENDORS.len(), expected.len());
        assert_eq!(Vendor::from_id(8), Vendor::Other(8));
        assert_eq!(Vendor::Other(8).id(), 8);
        assert_eq!(Vendor::Other(0xffff).macro_name(), None);
    }

    #[test]
    fn common_tokens_match_reference() {
        // KVM_HCALL_TOKEN / EV_HCALL_TOKEN / FH_HCALL_TOKEN of the common calls.
        assert_eq!(HcallToken::kvm(3).raw(), 0x002a_0003);
        assert_eq!(HcallToken::kvm(4).raw(), 0x002a_0004);
        assert_eq!(HcallToken::epapr(16).raw(), 0x0001_0010);
        assert_eq!(HcallToken::fsl(1).raw(), 0x0002_0001);
        // Older uapi header: HC_VENDOR_KVM = 42 << 16.
        assert_eq!(HcallToken::kvm(0).raw(), 42 << 16);
    }

    #[test]
    fn tokens_decode_both_ways() {
        for raw in [0u32, 1, 0x002a_0003, 0x8001_0010, 0xffff_ffff, 0x1234_5678] {
            let t = HcallToken::from_raw(raw);
            assert_eq!(HcallToken::new(t.vendor(), t.number()), t);
            assert_eq!(u32::from(t), raw);
        }
        assert_eq!(HcallToken::from_raw(0x002a_0003).to_string(), "0x002a0003");
    }

    #[test]
    fn kvm_matching_uses_the_whole_token() {
        // kvmppc_kvm_pv: bit 31 is not masked, vendor 0 is not ePAPR.
        let t = HcallToken::from_raw(0x8001_0010);
        assert_eq!(t.vendor(), Vendor::Other(0x8001));
        assert_eq!(t.lookup(), None);
        assert_eq!(HcallToken::from_raw(0x0000_0010).lookup(), None);
        assert_eq!(HcallToken::from_raw(0x0001_0010).name(), Some("EV_IDLE"));
    }

    #[test]
    fn topaz_masks_bit_31_and_aliases_vendor_0() {
        // Topaz's hcall(): HCALL_GET_VENDOR_ID(t) = (t & 0x7fffffff) >> 16.
        let d = HcallToken::from_raw(0x8001_0010).topaz();
        assert_eq!(d.vendor_id, 1);
        assert_eq!(d.table, TopazTable::Epapr);
        assert_eq!(d.lookup().map(|h| h.name), Some("EV_IDLE"));
        let d = HcallToken::from_raw(0x0000_0001).topaz();
        assert_eq!(d.lookup().map(|h| h.name), Some("EV_BYTE_CHANNEL_SEND"));
        let d = HcallToken::from_raw(0x0002_0001).topaz();
        assert_eq!(d.table, TopazTable::Freescale);
        assert_eq!(d.lookup().map(|h| h.name), Some("FH_ERR_GET_INFO"));
        // Any other vendor also selects the FSL table.
        let d = HcallToken::from_raw(0x002a_0003).topaz();
        assert_eq!(d.table, TopazTable::Freescale);
    }

    #[test]
    fn enums_and_tokens_convert_both_ways() {
        use crate::hcall::registry::{self, KvmHc};
        for n in 0..=20u16 {
            let hc = KvmHc::from_number(u64::from(n));
            let t = HcallToken::try_from(hc).unwrap();
            assert_eq!(t, HcallToken::kvm(n));
            assert_eq!(KvmHc::try_from(t), Ok(hc));
        }
        assert_eq!(
            HcallToken::try_from(KvmHc::Unknown(0x1_0000)),
            Err(TokenError::NumberTooLarge(0x1_0000))
        );
        let fh = HcallToken::fsl(1);
        assert_eq!(KvmHc::try_from(fh), Err(TokenError::NotKvm(fh)));
        assert!(TokenError::NotKvm(fh).to_string().contains("vendor 2"));
        for h in registry::all() {
            assert_eq!(HcallToken::from(h), h.token());
        }
    }

    #[test]
    fn vendor_parse_rejects_garbage() {
        assert_eq!(Vendor::parse("0x10000"), None);
        assert_eq!(Vendor::parse(""), None);
        assert_eq!(Vendor::parse("KVM"), Some(Vendor::Kvm));
        assert_eq!(Vendor::parse("freescale"), Some(Vendor::Freescale));
    }
}
