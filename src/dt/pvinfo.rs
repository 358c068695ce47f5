//! `struct kvm_ppc_pvinfo`: the host's answer to the `KVM_PPC_GET_PVINFO` VM ioctl, and
//! the `/hypervisor` node it implies.
//!
//! Layout (`torvalds/linux: include/uapi/linux/kvm.h`; `Documentation/virt/kvm/api.rst`,
//! section "KVM_PPC_GET_PVINFO"), 128 bytes, no padding holes:
//!
//! ```text
//! 0x00  __u32 flags      KVM_PPC_PVINFO_FLAGS_EV_IDLE = 1<<0
//! 0x04  __u32 hcall[4]   the hypercall instruction words
//! 0x14  __u8  pad[108]
//! ```
//!
//! Byte order: `flags` is in the host's order. The `hcall` words are big-endian in newer
//! kernels (`cpu_to_be32` in `torvalds/linux: arch/powerpc/kvm/powerpc.c
//! (kvm_vm_ioctl_get_pvinfo)`) and in the host's order in older ones, which stored the
//! plain `u32` values; on a big-endian host both are the same. [`PvinfoOrder`] makes the
//! choice explicit; [`PvinfoOrder::current`] is the default.
//!
//! QEMU turns the answer into the node: the words become `hcall-instructions`, and
//! `has-idle` is added when the EV_IDLE flag is set (`qemu/qemu: target/ppc/kvm.c
//! (kvmppc_get_hypercall, kvmppc_get_hasidle)`, `hw/ppc/e500.c`).

use crate::Endian;
use crate::dt::hypervisor::{COMPAT_KVM, HcallInstructions, HypervisorNode};
use thiserror::Error;

/// `sizeof(struct kvm_ppc_pvinfo)`.
pub const PVINFO_SIZE: usize = 128;
/// `KVM_PPC_PVINFO_FLAGS_EV_IDLE`: the host implements the ePAPR `EV_IDLE` hypercall.
pub const KVM_PPC_PVINFO_FLAGS_EV_IDLE: u32 = 1 << 0;

const HCALL_OFFSET: usize = 4;
const PAD_OFFSET: usize = 20;
const PAD_SIZE: usize = PVINFO_SIZE - PAD_OFFSET;

/// A `kvm_ppc_pvinfo` that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PvinfoError {
    /// The input is not exactly 128 bytes.
    #[error("kvm_ppc_pvinfo is {PVINFO_SIZE} bytes, got {0}")]
    Size(usize),
}

/// The byte order of each part of the struct. Make one with [`PvinfoOrder::current`] or
/// [`PvinfoOrder::legacy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PvinfoOrder {
    /// Order of `flags` (the host's).
    pub flags: Endian,
    /// Order of the `hcall` words.
    pub hcall: Endian,
}

impl PvinfoOrder {
    /// Current kernels: flags in the host's order, words big-endian.
    #[must_use]
    pub const fn current(host: Endian) -> Self {
        PvinfoOrder {
            flags: host,
            hcall: Endian::Big,
        }
    }

    /// Older kernels: everything in the host's order.
    #[must_use]
    pub const fn legacy(host: Endian) -> Self {
        PvinfoOrder {
            flags: host,
            hcall: host,
        }
    }
}

impl Default for PvinfoOrder {
    /// A big-endian host (every 32-bit BookE host; words and flags agree).
    fn default() -> Self {
        PvinfoOrder::current(Endian::Big)
    }
}

/// `struct kvm_ppc_pvinfo` as values. Make one with [`KvmPpcPvinfo::new`] or
/// [`KvmPpcPvinfo::from_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KvmPpcPvinfo {
    /// `flags` (`KVM_PPC_PVINFO_FLAGS_*`; unknown bits kept).
    pub flags: u32,
    /// `hcall[4]`: the instruction words as numbers.
    pub hcall: [u32; 4],
    /// `pad[108]`, kept as read (the kernel zeroes it).
    pub pad: [u8; PAD_SIZE],
}

impl KvmPpcPvinfo {
    /// A value with `flags`, `hcall` and zero padding.
    #[must_use]
    pub fn new(flags: u32, hcall: [u32; 4]) -> Self {
        KvmPpcPvinfo {
            flags,
            hcall,
            pad: [0; PAD_SIZE],
        }
    }

    /// Decodes exactly 128 bytes.
    ///
    /// # Errors
    /// [`PvinfoError::Size`] for any other length.
    pub fn from_bytes(bytes: &[u8], order: PvinfoOrder) -> Result<Self, PvinfoError> {
        let b: &[u8; PVINFO_SIZE] = bytes
            .try_into()
            .map_err(|_| PvinfoError::Size(bytes.len()))?;
        let mut hcall = [0u32; 4];
        for (w, bytes) in hcall
            .iter_mut()
            .zip(b[HCALL_OFFSET..PAD_OFFSET].chunks_exact(4))
        {
            *w = order.hcall.read_u32(bytes);
        }
        let mut pad = [0u8; PAD_SIZE];
        pad.copy_from_slice(&b[PAD_OFFSET..]);
        Ok(KvmPpcPvinfo {
            flags: order.flags.read_u32(&b[..HCALL_OFFSET]),
            hcall,
            pad,
        })
    }

    /// Encodes the 128 bytes the ioctl would return.
    #[must_use]
    pub fn to_bytes(&self, order: PvinfoOrder) -> [u8; PVINFO_SIZE] {
        let mut out = [0u8; PVINFO_SIZE];
        order.flags.write_u32(&mut out[..HCALL_OFFSET], self.flags);
        for (bytes, &w) in out[HCALL_OFFSET..PAD_OFFSET]
            .chunks_exact_mut(4)
            .zip(&self.hcall)
        {
            order.hcall.write_u32(bytes, w);
        }
        out[PAD_OFFSET..].copy_from_slice(&self.pad);
        out
    }

    /// The EV_IDLE flag is set.
    #[must_use]
    pub fn has_idle(&self) -> bool {
        self.flags & KVM_PPC_PVINFO_FLAGS_EV_IDLE != 0
    }

    /// The four words as `hcall-instructions` (QEMU copies all 16 bytes).
    #[must_use]
    pub fn hcall_instructions(&self) -> HcallInstructions {
        // Four words always fit; `new` fails only for 0 or more than 4.
        HcallInstructions::new(&self.hcall).unwrap_or_else(|_| {
            // unreachable in practice; keep the type total without panicking
            HcallInstructions::from_sequence(crate::insn::seq::KnownSequence::QemuFallback)
        })
    }

    /// The node QEMU's ppce500 writes for this answer: `"linux,kvm"`, the four words,
    /// and `has-idle` when the EV_IDLE flag is set.
    ///
    /// ```
    /// use ppcpv::dt::pvinfo::{KvmPpcPvinfo, PvinfoOrder};
    /// use ppcpv::fdt::writer::Padding;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // The 128 bytes a VMM got from the KVM_PPC_GET_PVINFO ioctl on a ppc64le host.
    /// let mut answer = [0u8; 128];
    /// answer[0] = 1; // flags = KVM_PPC_PVINFO_FLAGS_EV_IDLE, host order
    /// for (i, w) in [0x44000022u32, 0x60000000, 0x60000000, 0x60000000].iter().enumerate() {
    ///     ppcpv::endian::be::set_u32(&mut answer, 4 + 4 * i, *w);
    /// }
    /// let info = KvmPpcPvinfo::from_bytes(&answer, PvinfoOrder::current(ppcpv::Endian::Little))?;
    /// let node = info.to_node();
    /// assert!(node.has_idle);
    /// assert_eq!(node.hcall.unwrap().sequence().unwrap().name(), "booke-hv");
    /// let dtb = node.to_minimal_dtb(&Padding::NONE)?;
    /// # assert_eq!(&dtb[..4], &[0xd0, 0x0d, 0xfe, 0xed]);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn to_node(&self) -> HypervisorNode {
        HypervisorNode::new([COMPAT_KVM])
            .with_hcall(self.hcall_instructions())
            .with_has_idle(self.has_idle())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOKE_HV: [u32; 4] = [0x4400_0022, 0x6000_0000, 0x6000_0000, 0x6000_0000];

    #[test]
    fn layout_and_byte_orders() {
        let p = KvmPpcPvinfo::new(KVM_PPC_PVINFO_FLAGS_EV_IDLE, BOOKE_HV);
        let be = p.to_bytes(PvinfoOrder::default());
        assert_eq!(be.len(), PVINFO_SIZE);
        assert_eq!(&be[..8], &[0, 0, 0, 1, 0x44, 0, 0, 0x22]);
        assert!(be[PAD_OFFSET..].iter().all(|&b| b == 0));
        // A ppc64le host with a current kernel: flags LE, words BE.
        let le = p.to_bytes(PvinfoOrder::current(Endian::Little));
        assert_eq!(&le[..8], &[1, 0, 0, 0, 0x44, 0, 0, 0x22]);
        // An old little-endian kernel: words in host order too.
        let old = p.to_bytes(PvinfoOrder::legacy(Endian::Little));
        assert_eq!(&old[4..8], &[0x22, 0, 0, 0x44]);
        for order in [
            PvinfoOrder::default(),
            PvinfoOrder::current(Endian::Little),
            PvinfoOrder::legacy(Endian::Little),
        ] {
            assert_eq!(
                KvmPpcPvinfo::from_bytes(&p.to_bytes(order), order),
                Ok(p.clone())
            );
        }
    }

    #[test]
    fn rejects_wrong_sizes() {
        assert_eq!(
            KvmPpcPvinfo::from_bytes(&[0; 127], PvinfoOrder::default()),
            Err(PvinfoError::Size(127))
        );
        assert_eq!(
            KvmPpcPvinfo::from_bytes(&[0; 129], PvinfoOrder::default()),
            Err(PvinfoError::Size(129))
        );
    }

    #[test]
    fn node_follows_qemu() {
        let n = KvmPpcPvinfo::new(KVM_PPC_PVINFO_FLAGS_EV_IDLE, BOOKE_HV).to_node();
        assert_eq!(n.compatible, vec!["linux,kvm".to_owned()]);
        assert_eq!(n.hcall.unwrap().words(), &BOOKE_HV);
        assert!(n.has_idle);
        let n = KvmPpcPvinfo::new(0x8000_0000, BOOKE_HV).to_node();
        assert!(!n.has_idle);
    }
}
