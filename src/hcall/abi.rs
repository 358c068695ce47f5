//! KVM hypercall calling conventions per architecture: which registers carry the
//! number, the arguments, the return value and further outputs, what is clobbered, and
//! which instruction traps to the host.
//!
//! Sources:
//! * x86, s390, PowerPC: the seed patch (`Documentation/virtual/hypercalls.txt`) and the
//!   kernel's current `torvalds/linux: Documentation/virt/kvm/x86/hypercalls.rst`.
//!   The seed names the x86 instructions "vmrun"/"vmmrun"; that is a slip. `vmrun` is
//!   AMD's VM-entry instruction and "vmmrun" does not exist; the hypercall instructions
//!   are `vmcall` (Intel VMX, `0f 01 c1`) and `vmmcall` (AMD SVM, `0f 01 d9`), which is
//!   what the current hypercalls.rst says.
//! * PowerPC details: `torvalds/linux: Documentation/virt/kvm/ppc-pv.rst`,
//!   `arch/powerpc/include/asm/epapr_hcalls.h` (`EV_HCALL_CLOBBERS`) and
//!   `arch/powerpc/kvm/powerpc.c (kvm_vm_ioctl_get_pvinfo)` (the instruction words).
//! * MIPS: current hypercalls.rst ("HYPCALL instruction with code 0 and the hypercall
//!   number in $2 (v0). Up to four arguments may be placed in $4-$7 (a0-a3) and the
//!   return value is placed in $2 (v0)"), confirmed by the host side
//!   `torvalds/linux: arch/mips/kvm/hypcall.c (kvm_mips_handle_hypcall)`; the guest
//!   header `arch/mips/include/asm/kvm_para.h` encodes the instruction as
//!   `.word 0x42000028`.

use super::registry::Arch;

/// How one architecture makes a KVM hypercall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct CallingConvention {
    /// The architecture.
    pub arch: Arch,
    /// The trapping instruction(s), with encodings.
    pub instruction: &'static str,
    /// The register holding the hypercall number.
    pub number: &'static str,
    /// The argument registers, first argument first.
    pub args: &'static [&'static str],
    /// The register receiving the return value (status).
    #[cfg_attr(feature = "serde", serde(rename = "return"))]
    pub ret: &'static str,
    /// Further output registers, first output first (empty when there are none).
    pub outputs: &'static [&'static str],
    /// Registers (and state) the call may clobber beyond the outputs.
    pub clobbers: &'static [&'static str],
    /// Caveats worth knowing.
    pub notes: &'static str,
    /// Where this comes from.
    pub source: &'static str,
}

/// x86 (hypercalls.rst "X86").
pub static X86: CallingConvention = CallingConvention {
    arch: Arch::X86,
    instruction: "vmcall (Intel VMX, 0f 01 c1) or vmmcall (AMD SVM, 0f 01 d9), 3 bytes; \
                  the hypervisor may patch one into the other",
    number: "rax",
    args: &["rbx", "rcx", "rdx", "rsi"],
    ret: "rax",
    outputs: &[],
    clobbers: &[],
    notes: "No other register is clobbered unless the hypercall says so. The seed patch \
            wrote \"vmrun\"/\"vmmrun\"; the real hypercall instructions are vmcall and \
            vmmcall (vmrun is AMD's VM entry, vmmrun does not exist). Errors come back as \
            negative KVM_E* values (-KVM_ENOSYS).",
    source: "torvalds/linux: Documentation/virt/kvm/x86/hypercalls.rst",
};

/// s390 (hypercalls.rst "S390").
pub static S390: CallingConvention = CallingConvention {
    arch: Arch::S390,
    instruction: "diagnose 0x500 (DIAG 500)",
    number: "r1",
    args: &["r2", "r3", "r4", "r5", "r6", "r7"],
    ret: "r2",
    outputs: &[],
    clobbers: &[],
    notes: "Clobbers are not stated by hypercalls.rst. See \
            Documentation/virt/kvm/s390/s390-diag.rst for the diagnose calls KVM supports.",
    source: "torvalds/linux: Documentation/virt/kvm/x86/hypercalls.rst",
};

/// PowerPC (hypercalls.rst "PowerPC", ppc-pv.rst, epapr_hcalls.h).
pub static PPC: CallingConvention = CallingConvention {
    arch: Arch::Ppc,
    instruction: "the 1-4 words of the device tree's /hypervisor hcall-instructions: KVM PR \
                  lis r0,0x4b56; ori r0,r0,0x4d21; sc; nop (0x3c004b56 0x60004d21 0x44000002 \
                  0x60000000, r0 = \"KVM!\"); BookE-HV and ePAPR sc 1 (0x44000022)",
    number: "r11 (token = vendor << 16 | number)",
    args: &["r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10"],
    ret: "r3 (ePAPR EV_* status)",
    outputs: &["r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"],
    clobbers: &["r0", "r12", "xer", "ctr", "lr", "cr"],
    notes: "The docs spell the property 'hypercall-instructions'; every implementation uses \
            hcall-instructions. Linux's EV_HCALL_CLOBBERS lists r0, r12, xer, ctr, lr, cc \
            and memory; its header adds that strictly r0 and r3-r12 are always clobbered. \
            An unpatched guest stub returns -1 in r3.",
    source: "torvalds/linux: Documentation/virt/kvm/ppc-pv.rst; \
             arch/powerpc/include/asm/epapr_hcalls.h; \
             arch/powerpc/kvm/powerpc.c (kvm_vm_ioctl_get_pvinfo)",
};

/// MIPS (current hypercalls.rst "MIPS").
pub static MIPS: CallingConvention = CallingConvention {
    arch: Arch::Mips,
    instruction: "hypcall with code 0 (0x42000028)",
    number: "$2 (v0)",
    args: &["$4 (a0)", "$5 (a1)", "$6 (a2)", "$7 (a3)"],
    ret: "$2 (v0)",
    outputs: &[],
    clobbers: &[],
    notes: "Clobbers are not stated by hypercalls.rst (the guest helpers declare only \
            \"memory\"). The guest header's comment says up to 3 arguments (a0-a2); the host \
            reads four (a0-a3). Mainline MIPS KVM answers -KVM_ENOSYS to every number.",
    source: "torvalds/linux: Documentation/virt/kvm/x86/hypercalls.rst; \
             arch/mips/kvm/hypcall.c (kvm_mips_handle_hypcall); arch/mips/include/asm/kvm_para.h",
};

/// Every documented convention, in hypercalls.rst order (x86, s390, PowerPC, MIPS).
pub static CONVENTIONS: [&CallingConvention; 4] = [&X86, &S390, &PPC, &MIPS];

/// The convention of one architecture.
#[must_use]
pub fn convention(arch: Arch) -> &'static CallingConvention {
    match arch {
        Arch::X86 => &X86,
        Arch::S390 => &S390,
        Arch::Ppc => &PPC,
        Arch::Mips => &MIPS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_uses_vmcall_and_vmmcall() {
        // hypercalls.rst "X86": number rax, args rbx rcx rdx rsi, return rax.
        assert!(X86.instruction.contains("vmcall") && X86.instruction.contains("vmmcall"));
        assert!(
            X86.notes.contains("vmrun"),
            "the seed's mistake is called out"
        );
        assert_eq!(X86.number, "rax");
        assert_eq!(X86.args, ["rbx", "rcx", "rdx", "rsi"]);
        assert_eq!(X86.ret, "rax");
    }

    #[test]
    fn s390_uses_diag_500() {
        // hypercalls.rst "S390": R1 number, R2-R7 parameters 1-6, return R2.
        assert!(S390.instruction.contains("0x500"));
        assert_eq!(S390.number, "r1");
        assert_eq!(S390.args, ["r2", "r3", "r4", "r5", "r6", "r7"]);
        assert_eq!(S390.ret, "r2");
    }

    #[test]
    fn ppc_matches_section_3_1() {
        // ppc-pv.rst: in r3-r10, number r11, out r4-r11, status r3, r0/r12 volatile.
        assert_eq!(PPC.args.len(), 8);
        assert_eq!(PPC.args.first(), Some(&"r3"));
        assert_eq!(PPC.args.last(), Some(&"r10"));
        assert!(PPC.number.starts_with("r11"));
        assert_eq!(PPC.outputs.first(), Some(&"r4"));
        assert_eq!(PPC.outputs.last(), Some(&"r11"));
        assert!(PPC.ret.starts_with("r3"));
        assert!(PPC.clobbers.contains(&"r0") && PPC.clobbers.contains(&"r12"));
        // kvm_vm_ioctl_get_pvinfo's instruction words.
        for w in ["0x3c004b56", "0x60004d21", "0x44000002", "0x44000022"] {
            assert!(PPC.instruction.contains(w), "{w}");
        }
    }

    #[test]
    fn mips_matches_current_hypercalls_rst() {
        // hypercalls.rst "MIPS": hypcall code 0, v0 number, a0-a3 args, v0 return.
        assert!(MIPS.instruction.contains("hypcall") && MIPS.instruction.contains("0x42000028"));
        assert_eq!(MIPS.number, "$2 (v0)");
        assert_eq!(MIPS.args, ["$4 (a0)", "$5 (a1)", "$6 (a2)", "$7 (a3)"]);
        assert_eq!(MIPS.ret, "$2 (v0)");
    }

    #[test]
    fn every_arch_has_one_convention() {
        for a in Arch::ALL {
            assert_eq!(convention(a).arch, a);
        }
        assert_eq!(CONVENTIONS.map(|c| c.arch), Arch::ALL);
    }
}
