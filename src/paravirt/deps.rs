//! TEMPORARY adapters for `ppcpv::insn` and `ppcpv::magic`, which are being built in
//! parallel. Replaced by the real modules before the final merge.

/// Offset of a field of `struct kvm_vcpu_arch_shared` (kvm-ppc-pv.md §7).
pub(crate) fn field_offset(name: &str) -> Option<u16> {
    Some(match name {
        "scratch1" => 0,
        "scratch2" => 8,
        "msr" => 88,
        "sprg0" => 32,
        "sprg1" => 40,
        "sprg2" => 48,
        "sprg3" => 56,
        "srr0" => 64,
        "srr1" => 72,
        "dar" => 80,
        "dsisr" => 96,
        "mas0" => 168,
        "mas1" => 172,
        "mas7_3" => 176,
        "mas2" => 184,
        "mas4" => 192,
        "mas6" => 196,
        "esr" => 200,
        "pir" => 204,
        "sprg4" => 208,
        "sprg5" => 216,
        "sprg6" => 224,
        "sprg7" => 232,
        _ => return None,
    })
}

/// A minimal disassembler for the words this module matches and writes.
pub(crate) fn disasm(w: u32) -> String {
    let rt = (w >> 21) & 0x1f;
    let ra = (w >> 16) & 0x1f;
    let d = i32::from(((w & 0xffff) as u16).cast_signed());
    match w >> 26 {
        32 => return format!("lwz r{rt},{d}({ra})"),
        36 => return format!("stw r{rt},{d}({ra})"),
        58 if w & 3 == 0 => return format!("ld r{rt},{}({ra})", d & !3),
        62 if w & 3 == 0 => return format!("std r{rt},{}({ra})", d & !3),
        24 if w == 0x6000_0000 => return "nop".into(),
        31 => {}
        _ => return format!(".long {w:#010x}"),
    }
    let spr = ((w >> 16) & 0x1f) | (((w >> 11) & 0x1f) << 5);
    match w & 0x7ff {
        0x0a6 => format!("mfmsr r{rt}"),
        0x2a6 => format!("mfspr r{rt},{spr:#x}"),
        0x3a6 => format!("mtspr {spr:#x},r{rt}"),
        0x46c => "tlbsync".into(),
        0x124 => format!("mtmsr r{rt}"),
        0x164 => format!("mtmsrd r{rt},{}", (w >> 16) & 1),
        0x106 => format!("wrtee r{rt}"),
        0x146 => format!("wrteei {}", (w >> 15) & 1),
        0x1e4 => format!("mtsrin r{rt},r{}", (w >> 11) & 0x1f),
        _ => format!(".long {w:#010x}"),
    }
}
