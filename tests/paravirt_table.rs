//! Every case of `kvm_check_ins` (`torvalds/linux: arch/powerpc/kernel/kvm.c`), with the
//! expected words written out by hand from the field offsets of
//! `struct kvm_vcpu_arch_shared` (`arch/powerpc/include/uapi/asm/kvm_para.h`) — an
//! oracle independent of the code — plus two guests end to end.

use ppcpv::hcall::MagicFeatures;
use ppcpv::paravirt::{
    Config, Family, Outcome, Reason, Rewrite, Template, TemplateBranch, WordSize, check,
};

const B3S64: Config = Config::BOOK3S_64;
const B3S32: Config = Config::BOOK3S_32;
const E500: Config = Config::E500;
const B3E64: Config = Config::BOOK3E_64;
const ALL: MagicFeatures = MagicFeatures::MAINLINE;
const NONE: MagicFeatures = MagicFeatures::NONE;
const SR: MagicFeatures = MagicFeatures::SR;
const MAS: MagicFeatures = MagicFeatures::MAS0_TO_SPRG7;

#[derive(Debug)]
enum Want {
    /// Rewritten in place into this word.
    Word(u32),
    /// Left alone for this reason.
    Skip(Reason),
    /// Branch to a template.
    Branch(TemplateBranch),
}
use Want::{Skip, Word};

fn branch(template: Template, reg: Option<u8>) -> Want {
    Want::Branch(TemplateBranch::new(template, reg, None, false))
}

#[track_caller]
fn expect(word: u32, cfg: Config, features: MagicFeatures, want: Want) {
    let d = check(word, cfg, features)
        .unwrap_or_else(|| panic!("{word:#010x} is not a candidate ({cfg}, {features:?})"));
    match (want, d.outcome) {
        (Word(w), Outcome::Patch(r)) => assert_eq!(
            r.word(),
            Some(w),
            "{word:#010x} ({}) on {cfg}: got {r}",
            d.pattern.name
        ),
        (Skip(why), Outcome::Skip(got)) => assert_eq!(got, why, "{word:#010x} on {cfg}"),
        (Want::Branch(b), Outcome::Patch(Rewrite::Branch(got))) => {
            assert_eq!(got, b, "{word:#010x} on {cfg}");
        }
        (want, got) => panic!(
            "{word:#010x} ({}) on {cfg}: want {want:?}, got {got:?}",
            d.pattern.name
        ),
    }
}

/// Loads of u64 fields: `ld` on 64-bit, `lwz` at +4 on 32-bit, always patched.
#[test]
fn mfmsr_and_mfspr_base_fields() {
    // (mfspr/mfmsr r3 word, 64-bit ld r3, 32-bit lwz r3)
    let rows = [
        (0x7c60_00a6, 0xe860_f058, 0x8060_f05c), // mfmsr -> msr
        (0x7c70_42a6, 0xe860_f020, 0x8060_f024), // SPRG0
        (0x7c71_42a6, 0xe860_f028, 0x8060_f02c), // SPRG1
        (0x7c72_42a6, 0xe860_f030, 0x8060_f034), // SPRG2
        (0x7c73_42a6, 0xe860_f038, 0x8060_f03c), // SPRG3
        (0x7c7a_02a6, 0xe860_f040, 0x8060_f044), // SRR0
        (0x7c7b_02a6, 0xe860_f048, 0x8060_f04c), // SRR1
    ];
    for (word, w64, w32) in rows {
        for f in [ALL, NONE] {
            expect(word, B3S64, f, Word(w64));
            expect(word, B3E64, f, Word(w64));
            expect(word, B3S32, f, Word(w32));
            expect(word, E500, f, Word(w32));
        }
    }
}

#[test]
fn dar_on_book3s_dear_on_booke() {
    let mfdar = 0x7c73_02a6;
    let mfdear = 0x7c7d_0aa6;
    expect(mfdar, B3S64, NONE, Word(0xe860_f050));
    expect(mfdar, B3S32, NONE, Word(0x8060_f054));
    expect(mfdar, E500, ALL, Skip(Reason::NotOnBookE));
    expect(mfdear, E500, NONE, Word(0x8060_f054));
    expect(mfdear, B3E64, NONE, Word(0xe860_f050));
    expect(mfdear, B3S64, ALL, Skip(Reason::BookEOnly));
    let mtdar = 0x7cb3_03a6; // mtspr DAR,r5
    let mtdear = 0x7cbd_0ba6;
    expect(mtdar, B3S64, NONE, Word(0xf8a0_f050));
    expect(mtdar, B3S32, NONE, Word(0x90a0_f054));
    expect(mtdar, E500, ALL, Skip(Reason::NotOnBookE));
    expect(mtdear, E500, NONE, Word(0x90a0_f054));
    expect(mtdear, B3E64, NONE, Word(0xf8a0_f050));
    expect(mtdear, B3S32, ALL, Skip(Reason::BookEOnly));
}

#[test]
fn dsisr_is_a_word_on_both_sizes() {
    for cfg in [B3S64, B3S32, E500, B3E64] {
        expect(0x7c72_02a6, cfg, NONE, Word(0x8060_f060)); // lwz r3,dsisr
        expect(0x7cb2_03a6, cfg, NONE, Word(0x90a0_f060)); // stw r5,dsisr
    }
}

#[test]
fn mas_registers_need_book3e_mmu_and_the_feature() {
    // (mfspr r3 word, mtspr r5 word, lwz/stw displacement) for the u32 MAS fields.
    let rows = [
        (0x7c70_9aa6, 0x7cb0_9ba6, 0xf0a8), // MAS0
        (0x7c71_9aa6, 0x7cb1_9ba6, 0xf0ac), // MAS1
        (0x7c74_9aa6, 0x7cb4_9ba6, 0xf0c0), // MAS4
        (0x7c76_9aa6, 0x7cb6_9ba6, 0xf0c4), // MAS6
        (0x7c73_9aa6, 0x7cb3_9ba6, 0xf0b4), // MAS3 = low word of mas7_3 (+4)
        (0x7c70_eaa6, 0x7cb0_eba6, 0xf0b0), // MAS7 = high word of mas7_3 (+0)
    ];
    let no_mmu = Config::new(WordSize::W32, Family::BookE, false).unwrap();
    for (mf, mt, d) in rows {
        for cfg in [E500, B3E64] {
            expect(mf, cfg, ALL, Word(0x8060_0000 | d));
            expect(mt, cfg, ALL, Word(0x90a0_0000 | d));
            expect(mf, cfg, SR, Skip(Reason::NeedsFeature(MAS)));
            expect(mt, cfg, NONE, Skip(Reason::NeedsFeature(MAS)));
        }
        for cfg in [B3S64, B3S32, no_mmu] {
            expect(mf, cfg, ALL, Skip(Reason::Book3eMmuOnly));
            expect(mt, cfg, ALL, Skip(Reason::Book3eMmuOnly));
        }
    }
    // MAS2 is a u64: ld/std on 64-bit, +4 on 32-bit.
    expect(0x7c72_9aa6, B3E64, ALL, Word(0xe860_f0b8));
    expect(0x7c72_9aa6, E500, ALL, Word(0x8060_f0bc));
    expect(0x7cb2_9ba6, B3E64, ALL, Word(0xf8a0_f0b8));
    expect(0x7cb2_9ba6, E500, ALL, Word(0x90a0_f0bc));
    expect(0x7c72_9aa6, E500, NONE, Skip(Reason::NeedsFeature(MAS)));
    expect(0x7c72_9aa6, B3S64, ALL, Skip(Reason::Book3eMmuOnly));
}

#[test]
fn sprg4_to_7_and_booke_read_aliases() {
    // (mfspr SPRGn r3, mfspr SPRGnR r3, mtspr SPRGn r5, 64-bit D, 32-bit D)
    let rows = [
        (0x7c74_42a6, 0x7c64_42a6, 0x7cb4_43a6, 0xf0d0, 0xf0d4),
        (0x7c75_42a6, 0x7c65_42a6, 0x7cb5_43a6, 0xf0d8, 0xf0dc),
        (0x7c76_42a6, 0x7c66_42a6, 0x7cb6_43a6, 0xf0e0, 0xf0e4),
        (0x7c77_42a6, 0x7c67_42a6, 0x7cb7_43a6, 0xf0e8, 0xf0ec),
    ];
    for (mf, mfr, mt, d64, d32) in rows {
        expect(mf, B3S64, ALL, Word(0xe860_0000 | d64));
        expect(mf, B3S32, ALL, Word(0x8060_0000 | d32));
        expect(mf, E500, ALL, Word(0x8060_0000 | d32));
        expect(mt, B3S64, ALL, Word(0xf8a0_0000 | d64));
        expect(mt, E500, ALL, Word(0x90a0_0000 | d32));
        expect(mfr, E500, ALL, Word(0x8060_0000 | d32));
        expect(mfr, B3E64, ALL, Word(0xe860_0000 | d64));
        expect(mfr, B3S64, ALL, Skip(Reason::BookEOnly));
        for cfg in [B3S64, E500] {
            expect(mf, cfg, SR, Skip(Reason::NeedsFeature(MAS)));
            expect(mt, cfg, NONE, Skip(Reason::NeedsFeature(MAS)));
        }
        expect(mfr, E500, NONE, Skip(Reason::NeedsFeature(MAS)));
        // Only the write form 0x114..0x117 is matched for mtspr (kvm_check_ins).
        let mtr = mfr | 0x100 | 0x0040_0000;
        assert!(check(mtr, E500, ALL).is_none(), "{mtr:#010x}");
    }
}

#[test]
fn esr_and_pir() {
    let mfesr = 0x7c7e_0aa6;
    let mtesr = 0x7cbe_0ba6;
    expect(mfesr, E500, ALL, Word(0x8060_f0c8));
    expect(mfesr, B3E64, ALL, Word(0x8060_f0c8));
    expect(mtesr, E500, ALL, Word(0x90a0_f0c8));
    expect(mfesr, E500, NONE, Skip(Reason::NeedsFeature(MAS)));
    expect(mfesr, B3S64, ALL, Skip(Reason::BookEOnly));
    expect(mtesr, B3S32, ALL, Skip(Reason::BookEOnly));
    // SPRN_PIR is 0x11E on BookE (reg_booke.h) and 0x3FF elsewhere (reg.h).
    let mfpir_booke = 0x7c7e_42a6;
    let mfpir = 0x7c7f_faa6;
    expect(mfpir_booke, E500, ALL, Word(0x8060_f0cc));
    expect(mfpir_booke, B3S64, ALL, Skip(Reason::BookEOnly));
    expect(mfpir, B3S64, ALL, Word(0x8060_f0cc));
    expect(mfpir, B3S32, ALL, Word(0x8060_f0cc));
    expect(mfpir, E500, ALL, Skip(Reason::NotOnBookE));
    expect(mfpir, B3S64, SR, Skip(Reason::NeedsFeature(MAS)));
    // PIR is read-only: mtspr PIR is not in the table.
    assert!(check(0x7cbf_fba6, B3S64, ALL).is_none());
    assert!(check(0x7cbe_43a6, E500, ALL).is_none());
}

#[test]
fn mtspr_base_fields() {
    // (mtspr r5 word, 64-bit std r5, 32-bit stw r5)
    let rows = [
        (0x7cb0_43a6, 0xf8a0_f020, 0x90a0_f024), // SPRG0
        (0x7cb1_43a6, 0xf8a0_f028, 0x90a0_f02c), // SPRG1
        (0x7cb2_43a6, 0xf8a0_f030, 0x90a0_f034), // SPRG2
        (0x7cb3_43a6, 0xf8a0_f038, 0x90a0_f03c), // SPRG3
        (0x7cba_03a6, 0xf8a0_f040, 0x90a0_f044), // SRR0
        (0x7cbb_03a6, 0xf8a0_f048, 0x90a0_f04c), // SRR1
    ];
    for (word, w64, w32) in rows {
        expect(word, B3S64, NONE, Word(w64));
        expect(word, B3E64, NONE, Word(w64));
        expect(word, B3S32, NONE, Word(w32));
        expect(word, E500, NONE, Word(w32));
    }
}

#[test]
fn tlbsync_becomes_nop() {
    for cfg in [B3S64, B3S32, E500, B3E64] {
        expect(0x7c00_046c, cfg, NONE, Word(0x6000_0000));
    }
    let d = check(0x7c00_046c, B3S64, NONE).unwrap();
    assert_eq!(d.outcome, Outcome::Patch(Rewrite::Nop));
}

#[test]
fn msr_writes_branch_to_templates() {
    for cfg in [B3S64, B3S32, E500, B3E64] {
        for f in [ALL, NONE] {
            expect(0x7ca1_0164, cfg, f, branch(Template::Mtmsrd, Some(5))); // mtmsrd r5,1
            expect(0x7ca0_0164, cfg, f, branch(Template::Mtmsr, Some(5))); // mtmsrd r5,0
            expect(0x7ca0_0124, cfg, f, branch(Template::Mtmsr, Some(5))); // mtmsr r5
        }
    }
    // r30/r31 are still matched; the template reloads them from scratch2/scratch1.
    expect(0x7fe0_0124, B3S64, ALL, branch(Template::Mtmsr, Some(31)));
}

#[test]
fn booke_wrtee_and_wrteei() {
    for cfg in [E500, B3E64] {
        expect(0x7ca0_0106, cfg, NONE, branch(Template::Wrtee, Some(5)));
        expect(0x7c00_0146, cfg, NONE, branch(Template::Wrteei0, None));
        expect(
            0x7c00_8146,
            cfg,
            NONE,
            Want::Branch(TemplateBranch::new(Template::Wrtee, None, None, true)),
        );
    }
    for cfg in [B3S64, B3S32] {
        expect(0x7ca0_0106, cfg, ALL, Skip(Reason::BookEOnly));
        expect(0x7c00_0146, cfg, ALL, Skip(Reason::BookEOnly));
        expect(0x7c00_8146, cfg, ALL, Skip(Reason::BookEOnly));
    }
    // wrteei is matched on the exact word only.
    assert!(check(0x7c60_8146, E500, ALL).is_none());
}

#[test]
fn mtsrin_needs_book3s_32_and_sr() {
    let mtsrin = 0x7ca0_31e4; // mtsrin r5,r6
    expect(
        mtsrin,
        B3S32,
        SR,
        Want::Branch(TemplateBranch::new(
            Template::Mtsrin,
            Some(5),
            Some(6),
            false,
        )),
    );
    expect(mtsrin, B3S32, MAS, Skip(Reason::NeedsFeature(SR)));
    for cfg in [B3S64, E500, B3E64] {
        expect(mtsrin, cfg, ALL, Skip(Reason::Book3S32Only));
    }
}

#[test]
fn register_is_kept() {
    expect(0x7fe0_00a6, B3S64, NONE, Word(0xebe0_f058)); // mfmsr r31 -> ld r31
    expect(0x7c00_00a6, B3S32, NONE, Word(0x8000_f05c)); // mfmsr r0 -> lwz r0
    expect(0x7fd0_43a6, E500, NONE, Word(0x93c0_f024)); // mtsprg0 r30 -> stw r30
}

/// A 64-bit Book3S PR guest and a 32-bit e500v2 guest, end to end.
#[test]
fn worked_examples() {
    expect(0x7c60_00a6, B3S64, ALL, Word(0xe860_f058));
    expect(0x7c60_00a6, E500, ALL, Word(0x8060_f05c));
    expect(0x7c70_eaa6, E500, ALL, Word(0x8060_f0b0));
    expect(0x7c70_eaa6, E500, SR, Skip(Reason::NeedsFeature(MAS)));
    let Some(d) = check(0x7c70_eaa6, E500, ALL) else {
        panic!("mfspr MAS7 is a candidate")
    };
    let Outcome::Patch(Rewrite::Access(a)) = d.outcome else {
        panic!("direct")
    };
    assert_eq!(
        (a.field.name(), a.page_offset, a.displacement()),
        ("mas7_3", 176, -3920)
    );
}
