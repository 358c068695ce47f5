//! Interop: the layout and constants in ppcpv equal what a C compiler computes from the
//! kernel's own PowerPC uapi headers (Debian `linux-libc-dev-ppc64el-cross`:
//! `asm/kvm_para.h`, `asm/epapr_hcalls.h`, `linux/kvm_para.h`). Needs `gcc` and the
//! headers; ignored unless `cargo test -- --include-ignored`.
//!
//! The headers are PowerPC's, the compiler is the host's (x86-64 in CI): the program is
//! built with `-nostdinc` so that only the PowerPC `asm/` directory is visible, plus
//! gcc's own freestanding include directory; it declares `printf` itself instead of
//! including libc headers. Every field of `struct kvm_vcpu_arch_shared` is a fixed-width
//! `__u32`/`__u64` whose offset is the same on every ABI that aligns them naturally, which
//! the program also checks with `_Alignof`.

mod common;

use ppcpv::hcall::{HcallRegs, HcallToken, MapMagicPage, Vendor, registry};
use ppcpv::hcall::{KvmFeature, MagicFeatures};
use ppcpv::magic::{FIELDS, SHARED_SIZE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian puts the PowerPC uapi headers.
fn include_dir() -> PathBuf {
    let candidates = [
        std::env::var_os("PPCPV_PPC_INCLUDE").map(PathBuf::from),
        Some(PathBuf::from("/usr/powerpc64le-linux-gnu/include")),
        Some(PathBuf::from("/usr/powerpc64-linux-gnu/include")),
        Some(PathBuf::from("/usr/powerpc-linux-gnu/include")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join("asm/kvm_para.h").is_file())
        .expect(
            "PowerPC uapi headers (install linux-libc-dev-ppc64el-cross or set PPCPV_PPC_INCLUDE)",
        )
}

/// Constants printed by the C program: name -> C expression.
const CONSTANTS: &[&str] = &[
    "KVM_HC_VAPIC_POLL_IRQ",
    "KVM_HC_MMU_OP",
    "KVM_HC_FEATURES",
    "KVM_HC_PPC_MAP_MAGIC_PAGE",
    "KVM_HC_KICK_CPU",
    "KVM_HC_MIPS_GET_CLOCK_FREQ",
    "KVM_HC_MIPS_EXIT_VM",
    "KVM_HC_MIPS_CONSOLE_OUTPUT",
    "KVM_HC_CLOCK_PAIRING",
    "KVM_HC_SEND_IPI",
    "KVM_HC_SCHED_YIELD",
    "KVM_HC_MAP_GPA_RANGE",
    "KVM_ENOSYS",
    "KVM_EOPNOTSUPP",
    "EV_BYTE_CHANNEL_SEND",
    "EV_BYTE_CHANNEL_RECEIVE",
    "EV_BYTE_CHANNEL_POLL",
    "EV_INT_SET_CONFIG",
    "EV_INT_GET_CONFIG",
    "EV_INT_SET_MASK",
    "EV_INT_GET_MASK",
    "EV_INT_IACK",
    "EV_INT_EOI",
    "EV_INT_SEND_IPI",
    "EV_INT_SET_TASK_PRIORITY",
    "EV_INT_GET_TASK_PRIORITY",
    "EV_DOORBELL_SEND",
    "EV_MSGSND",
    "EV_IDLE",
    "EV_LOCAL_VENDOR_ID",
    "EV_EPAPR_VENDOR_ID",
    "EV_FSL_VENDOR_ID",
    "EV_IBM_VENDOR_ID",
    "EV_GHS_VENDOR_ID",
    "EV_ENEA_VENDOR_ID",
    "EV_WR_VENDOR_ID",
    "EV_AMCC_VENDOR_ID",
    "EV_KVM_VENDOR_ID",
    "EV_BYTE_CHANNEL_MAX_BYTES",
    "EV_SUCCESS",
    "EV_EPERM",
    "EV_ENOENT",
    "EV_EIO",
    "EV_EAGAIN",
    "EV_ENOMEM",
    "EV_EFAULT",
    "EV_ENODEV",
    "EV_EINVAL",
    "EV_INTERNAL",
    "EV_CONFIG",
    "EV_INVALID_STATE",
    "EV_UNIMPLEMENTED",
    "EV_BUFFER_OVERFLOW",
    "KVM_SC_MAGIC_R0",
    "KVM_FEATURE_MAGIC_PAGE",
    "KVM_MAGIC_FEAT_SR",
    "KVM_MAGIC_FEAT_MAS0_TO_SPRG7",
    "MAGIC_PAGE_FLAG_NOT_MAPPED_NX",
    "KVM_HCALL_TOKEN(KVM_HC_FEATURES)",
    "KVM_HCALL_TOKEN(KVM_HC_PPC_MAP_MAGIC_PAGE)",
    "EV_HCALL_TOKEN(EV_IDLE)",
];

fn c_program() -> String {
    let mut c = String::from(
        "#include <asm/errno.h>\n\
         #include <linux/kvm_para.h>\n\
         int printf(const char *, ...);\n\
         #define F(m) printf(\"field %s %lu %lu %lu\\n\", #m, \
         (unsigned long)__builtin_offsetof(struct kvm_vcpu_arch_shared, m), \
         (unsigned long)sizeof(((struct kvm_vcpu_arch_shared *)0)->m), \
         (unsigned long)_Alignof(__typeof__(((struct kvm_vcpu_arch_shared *)0)->m)))\n\
         #define C(x) printf(\"const %s %lld\\n\", #x, (long long)(x))\n\
         int main(void) {\n\
         printf(\"sizeof %lu %lu\\n\", (unsigned long)sizeof(struct kvm_vcpu_arch_shared), \
         (unsigned long)_Alignof(struct kvm_vcpu_arch_shared));\n",
    );
    for f in &FIELDS {
        c.push_str(&format!("F({});\n", f.name));
    }
    for k in CONSTANTS {
        c.push_str(&format!("C({k});\n"));
    }
    // Every name ppcpv's hcall registry gives a KVM or ePAPR hypercall or return code;
    // names the kernel header lacks are reported as such.
    for name in registry_names() {
        c.push_str(&format!(
            "#ifdef {name}\nprintf(\"reg %s %lld\\n\", \"{name}\", (long long)({name}));\n#else\nprintf(\"absent {name}\\n\");\n#endif\n"
        ));
    }
    c.push_str("return 0;\n}\n");
    c
}

/// Names and values from `ppcpv::hcall::registry` for the vendors whose numbers these
/// headers define (KVM, ePAPR) and for every return code.
fn registry() -> BTreeMap<&'static str, i64> {
    let calls = registry::all()
        .filter(|h| matches!(h.vendor, Vendor::Kvm | Vendor::Epapr))
        .map(|h| (h.name, i64::from(h.number)));
    let codes = registry::all_codes().map(|c| (c.name, i64::from(c.value)));
    calls.chain(codes).collect()
}

fn registry_names() -> Vec<&'static str> {
    registry().into_keys().collect()
}

fn compile_and_run(dir: &Path) -> String {
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c_program()).unwrap();
    let gcc_inc = Command::new("gcc")
        .arg("-print-file-name=include")
        .output()
        .expect("gcc runs");
    let gcc_inc = String::from_utf8(gcc_inc.stdout).unwrap();
    let out = Command::new("gcc")
        .args(["-std=gnu11", "-Wall", "-Werror", "-nostdinc", "-isystem"])
        .arg(include_dir())
        .arg("-isystem")
        .arg(gcc_inc.trim())
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().expect("compiled program runs");
    assert!(run.status.success());
    String::from_utf8(run.stdout).unwrap()
}

#[test]
#[ignore = "needs gcc"]
fn layout_and_constants_match_the_kernel_header() {
    if !common::interop("layout_and_constants_match_the_kernel_header", "gcc") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = compile_and_run(dir.path());
    let mut fields = BTreeMap::new();
    let mut consts = BTreeMap::new();
    let mut sizeof = None;
    let mut reg = BTreeMap::new();
    let mut absent = Vec::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["sizeof", s, a] => {
                sizeof = Some((s.parse::<usize>().unwrap(), a.parse::<usize>().unwrap()))
            }
            ["field", n, o, s, a] => {
                fields.insert(
                    n.to_string(),
                    [o, s, a].map(|v| v.parse::<usize>().unwrap()),
                );
            }
            ["reg", n, v] => {
                reg.insert(n.to_string(), v.parse::<i64>().unwrap());
            }
            ["absent", n] => absent.push(n.to_string()),
            ["const", rest @ ..] => {
                let (v, name) = rest.split_last().unwrap();
                consts.insert(name.join(" "), v.parse::<i64>().unwrap());
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }

    // The struct: size, alignment, every field's offset, size and natural alignment.
    assert_eq!(sizeof, Some((SHARED_SIZE, 8)));
    assert_eq!(fields.len(), FIELDS.len());
    for f in &FIELDS {
        let [off, size, align] = fields[f.name];
        assert_eq!(off, f.offset, "{} offset", f.name);
        assert_eq!(size, f.size(), "{} size", f.name);
        assert_eq!(align, f.width.bytes(), "{} alignment", f.name);
    }
    // Contiguity was proven at compile time; with sizeof equal, no field is missing.
    assert_eq!(FIELDS.iter().map(|f| f.size()).sum::<usize>(), SHARED_SIZE);

    // The constants ppcpv's magic and feature types carry.
    let u = |name: &str| u64::try_from(consts[name]).unwrap();
    assert_eq!(u("KVM_MAGIC_FEAT_SR"), MagicFeatures::SR.bits());
    assert_eq!(
        u("KVM_MAGIC_FEAT_MAS0_TO_SPRG7"),
        MagicFeatures::MAS0_TO_SPRG7.bits()
    );
    assert_eq!(
        u32::try_from(consts["KVM_FEATURE_MAGIC_PAGE"]).unwrap(),
        KvmFeature::MAGIC_PAGE.0
    );
    let flag = u("MAGIC_PAGE_FLAG_NOT_MAPPED_NX");
    let map = |r4| {
        MapMagicPage::from_regs(
            &HcallRegs::new(HcallToken::kvm(4), ppcpv::hcall::GuestWidth::Bits64).with_r3_r4(0, r4),
        )
    };
    assert!(map(flag).nx_aware());
    assert!(!map(!flag & 0xfff).nx_aware());
    for f in &FIELDS {
        if let Some(name) = f.feature_name() {
            assert_eq!(u(name), f.feature.unwrap().bits(), "{}", f.name);
        }
    }

    // Hypercall numbers and codes as the uapi headers define them (include/uapi/linux/kvm_para.h,
    // arch/powerpc/include/uapi/asm/epapr_hcalls.h), written out by hand.
    let expected: &[(&str, i64)] = &[
        ("KVM_HC_VAPIC_POLL_IRQ", 1),
        ("KVM_HC_MMU_OP", 2),
        ("KVM_HC_FEATURES", 3),
        ("KVM_HC_PPC_MAP_MAGIC_PAGE", 4),
        ("KVM_HC_KICK_CPU", 5),
        ("KVM_HC_MIPS_GET_CLOCK_FREQ", 6),
        ("KVM_HC_MIPS_EXIT_VM", 7),
        ("KVM_HC_MIPS_CONSOLE_OUTPUT", 8),
        ("KVM_HC_CLOCK_PAIRING", 9),
        ("KVM_HC_SEND_IPI", 10),
        ("KVM_HC_SCHED_YIELD", 11),
        ("KVM_HC_MAP_GPA_RANGE", 12),
        ("KVM_ENOSYS", 1000),
        ("KVM_EOPNOTSUPP", 95),
        ("EV_IDLE", 16),
        ("EV_KVM_VENDOR_ID", 42),
        ("EV_EPAPR_VENDOR_ID", 1),
        ("EV_SUCCESS", 0),
        ("EV_UNIMPLEMENTED", 12),
        ("EV_BUFFER_OVERFLOW", 13),
        ("KVM_SC_MAGIC_R0", 0x4b56_4d21),
        ("KVM_HCALL_TOKEN(KVM_HC_FEATURES)", 0x002a_0003),
        ("KVM_HCALL_TOKEN(KVM_HC_PPC_MAP_MAGIC_PAGE)", 0x002a_0004),
        ("EV_HCALL_TOKEN(EV_IDLE)", 0x0001_0010),
    ];
    for (name, v) in expected {
        assert_eq!(consts[*name], *v, "{name}");
    }
    assert_eq!(consts.len(), CONSTANTS.len());

    // ppcpv's hypercall registry: every KVM/ePAPR number and return code the header
    // defines has the header's value; every KVM_HC_* 1-12 and EV_* code is in the header.
    for (name, value) in registry() {
        if let Some(v) = reg.get(name) {
            assert_eq!(*v, value, "registry {name}");
        }
    }
    assert!(
        absent
            .iter()
            .all(|n| !n.starts_with("KVM_HC_") && !n.starts_with("KVM_E")),
        "registry names missing from the kernel header: {absent:?}"
    );
    assert!(
        reg.len() >= 12 + 14 + 6,
        "only {} registry names compared",
        reg.len()
    );
    eprintln!(
        "compared {} registry values with the header; not in the Linux header: {absent:?}",
        reg.len()
    );
}

#[test]
#[ignore = "needs gcc"]
fn generated_c_header_compiles_to_the_same_layout() {
    if !common::interop("generated_c_header_compiles_to_the_same_layout", "gcc") {
        return;
    }
    // `ppcpv magic layout --c-header` must describe the same struct as the kernel's.
    let dir = tempfile::tempdir().unwrap();
    let header = common::run_ok(&["magic", "layout", "--c-header"]);
    let ours = dir.path().join("ours");
    std::fs::create_dir(&ours).unwrap();
    std::fs::write(ours.join("ppcpv_magic.h"), header).unwrap();
    let mut c = String::from(
        "#include <linux/types.h>\n#define kvm_vcpu_arch_shared ppcpv_shared\n#include <ppcpv_magic.h>\n#undef kvm_vcpu_arch_shared\n#include <asm/kvm_para.h>\n",
    );
    c.push_str("_Static_assert(sizeof(struct ppcpv_shared) == sizeof(struct kvm_vcpu_arch_shared), \"size\");\n");
    for f in &FIELDS {
        c.push_str(&format!(
            "_Static_assert(__builtin_offsetof(struct ppcpv_shared, {n}) == __builtin_offsetof(struct kvm_vcpu_arch_shared, {n}) && KVM_MAGIC_OFF_{u} == {o}, \"{n}\");\n",
            n = f.name,
            u = f.name.to_ascii_uppercase(),
            o = f.offset
        ));
    }
    let src = dir.path().join("check.c");
    std::fs::write(&src, c).unwrap();
    let gcc_inc = Command::new("gcc")
        .arg("-print-file-name=include")
        .output()
        .unwrap();
    let out = Command::new("gcc")
        .args(["-std=gnu11", "-fsyntax-only", "-nostdinc", "-isystem"])
        .arg(include_dir())
        .arg("-isystem")
        .arg(String::from_utf8(gcc_inc.stdout).unwrap().trim())
        .arg("-I")
        .arg(&ours)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// rust-vmm `vm-memory` interop (feature `vm-memory`): the page inside a `VolatileSlice`
/// is the same page the slice views see, and bad slices are refused with a reason.
#[cfg(feature = "vm-memory")]
#[test]
fn vm_memory_volatile_slice_gives_the_same_page() {
    use ppcpv::Endian;
    use ppcpv::magic::{MagicError, MagicPage, Selector, VmMagicPage};
    use vm_memory::VolatileSlice;

    #[repr(C, align(4096))]
    struct Ram([u8; 3 * 4096]);
    let mut ram = Ram([0; 3 * 4096]);
    {
        let slice = VolatileSlice::from(&mut ram.0[4096..]);
        let page = VmMagicPage::new(slice).unwrap();
        let v = page.view().with_endian(Endian::Little);
        for sel in Selector::all() {
            v.set(sel, (sel.offset() as u64) << 8 | 0x5a).unwrap();
        }
        page.mark_dirty();
        assert_eq!(page.slice().len(), 4096);
    }
    let snap = MagicPage::new(&ram.0[4096..8192])
        .unwrap()
        .with_endian(Endian::Little);
    for sel in Selector::all() {
        assert_eq!(
            snap.get(sel).unwrap(),
            (sel.offset() as u64) << 8 | 0x5a,
            "{sel}"
        );
    }
    assert!(ram.0[..4096].iter().all(|&b| b == 0));
    assert!(ram.0[8192..].iter().all(|&b| b == 0));

    assert_eq!(
        VmMagicPage::new(VolatileSlice::from(&mut ram.0[8192 + 1..])).unwrap_err(),
        MagicError::PageSize { len: 4095 }
    );
    assert!(matches!(
        VmMagicPage::new(VolatileSlice::from(&mut ram.0[4..4100])).unwrap_err(),
        MagicError::Misaligned { .. }
    ));
}
