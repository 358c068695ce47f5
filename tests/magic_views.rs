//! The typed views through the public API only, against offsets written out from
//! `kvm-ppc-pv.md` §7 (not from ppcpv's own table): every typed getter and setter, in
//! both byte orders, reads and writes exactly the bytes the kernel's layout says.

use ppcpv::Endian;
use ppcpv::hcall::MagicFeatures;
use ppcpv::magic::{MagicPage, MagicPageMut, Selector};

type Get = fn(&MagicPage<'_>) -> u64;
type Set = fn(&mut MagicPageMut<'_>, u64);

/// (name, offset, bytes, typed getter, typed setter) for every scalar field.
#[allow(clippy::cast_possible_truncation)]
fn scalars() -> Vec<(&'static str, usize, usize, Get, Set)> {
    vec![
        ("scratch1", 0, 8, |p| p.scratch1(), |p, v| p.set_scratch1(v)),
        ("scratch2", 8, 8, |p| p.scratch2(), |p, v| p.set_scratch2(v)),
        (
            "scratch3",
            16,
            8,
            |p| p.scratch3(),
            |p, v| p.set_scratch3(v),
        ),
        (
            "critical",
            24,
            8,
            |p| p.critical(),
            |p, v| p.set_critical(v),
        ),
        ("sprg0", 32, 8, |p| p.sprg0(), |p, v| p.set_sprg0(v)),
        ("sprg1", 40, 8, |p| p.sprg1(), |p, v| p.set_sprg1(v)),
        ("sprg2", 48, 8, |p| p.sprg2(), |p, v| p.set_sprg2(v)),
        ("sprg3", 56, 8, |p| p.sprg3(), |p, v| p.set_sprg3(v)),
        ("srr0", 64, 8, |p| p.srr0(), |p, v| p.set_srr0(v)),
        ("srr1", 72, 8, |p| p.srr1(), |p, v| p.set_srr1(v)),
        ("dar", 80, 8, |p| p.dar(), |p, v| p.set_dar(v)),
        ("msr", 88, 8, |p| p.msr(), |p, v| p.set_msr(v)),
        (
            "dsisr",
            96,
            4,
            |p| u64::from(p.dsisr()),
            |p, v| p.set_dsisr(v as u32),
        ),
        (
            "int_pending",
            100,
            4,
            |p| u64::from(p.int_pending()),
            |p, v| p.set_int_pending(v as u32),
        ),
        (
            "mas0",
            168,
            4,
            |p| u64::from(p.mas0().unwrap()),
            |p, v| p.set_mas0(v as u32).unwrap(),
        ),
        (
            "mas1",
            172,
            4,
            |p| u64::from(p.mas1().unwrap()),
            |p, v| p.set_mas1(v as u32).unwrap(),
        ),
        (
            "mas7_3",
            176,
            8,
            |p| p.mas7_3().unwrap(),
            |p, v| p.set_mas7_3(v).unwrap(),
        ),
        (
            "mas2",
            184,
            8,
            |p| p.mas2().unwrap(),
            |p, v| p.set_mas2(v).unwrap(),
        ),
        (
            "mas4",
            192,
            4,
            |p| u64::from(p.mas4().unwrap()),
            |p, v| p.set_mas4(v as u32).unwrap(),
        ),
        (
            "mas6",
            196,
            4,
            |p| u64::from(p.mas6().unwrap()),
            |p, v| p.set_mas6(v as u32).unwrap(),
        ),
        (
            "esr",
            200,
            4,
            |p| u64::from(p.esr().unwrap()),
            |p, v| p.set_esr(v as u32).unwrap(),
        ),
        (
            "pir",
            204,
            4,
            |p| u64::from(p.pir().unwrap()),
            |p, v| p.set_pir(v as u32).unwrap(),
        ),
        (
            "sprg4",
            208,
            8,
            |p| p.sprg4().unwrap(),
            |p, v| p.set_sprg4(v).unwrap(),
        ),
        (
            "sprg5",
            216,
            8,
            |p| p.sprg5().unwrap(),
            |p, v| p.set_sprg5(v).unwrap(),
        ),
        (
            "sprg6",
            224,
            8,
            |p| p.sprg6().unwrap(),
            |p, v| p.set_sprg6(v).unwrap(),
        ),
        (
            "sprg7",
            232,
            8,
            |p| p.sprg7().unwrap(),
            |p, v| p.set_sprg7(v).unwrap(),
        ),
    ]
}

fn encode(e: Endian, v: u64, size: usize) -> Vec<u8> {
    let full = match e {
        Endian::Big => v.to_be_bytes(),
        Endian::Little => v.to_le_bytes(),
    };
    match (e, size) {
        (_, 8) => full.to_vec(),
        (Endian::Big, _) => full[8 - size..].to_vec(),
        (Endian::Little, _) => full[..size].to_vec(),
    }
}

fn value(offset: usize, size: usize) -> u64 {
    let v = 0x0102_0304_0506_0708u64.wrapping_add((offset as u64) << 56 | offset as u64);
    if size == 4 { v & 0xffff_ffff } else { v }
}

#[test]
fn every_typed_getter_reads_the_reference_bytes_in_both_orders() {
    for e in [Endian::Big, Endian::Little] {
        for (name, offset, size, get, _) in scalars() {
            let mut page = [0u8; 4096];
            let v = value(offset, size);
            page[offset..offset + size].copy_from_slice(&encode(e, v, size));
            let view = MagicPage::from_array(&page).with_endian(e);
            assert_eq!(get(&view), v, "{name} {e}");
            assert_eq!(
                view.get(Selector::parse(name).unwrap()).unwrap(),
                v,
                "{name} {e}"
            );
        }
        for n in 0..16 {
            let mut page = [0u8; 4096];
            let offset = 104 + 4 * n;
            let v = value(offset, 4);
            page[offset..offset + 4].copy_from_slice(&encode(e, v, 4));
            let view = MagicPage::from_array(&page).with_endian(e);
            assert_eq!(u64::from(view.sr(n).unwrap()), v, "sr[{n}] {e}");
        }
    }
}

#[test]
fn every_typed_setter_writes_only_the_reference_bytes_in_both_orders() {
    for e in [Endian::Big, Endian::Little] {
        for (name, offset, size, _, set) in scalars() {
            let mut page = [0x5au8; 4096];
            let v = value(offset, size);
            set(&mut MagicPageMut::from_array(&mut page).with_endian(e), v);
            let mut want = [0x5au8; 4096];
            want[offset..offset + size].copy_from_slice(&encode(e, v, size));
            assert!(page == want, "{name} {e}");
        }
        for n in 0..16 {
            let mut page = [0x5au8; 4096];
            let offset = 104 + 4 * n;
            let v = value(offset, 4);
            MagicPageMut::from_array(&mut page)
                .with_endian(e)
                .set_sr(n, u32::try_from(v).unwrap())
                .unwrap();
            let mut want = [0x5au8; 4096];
            want[offset..offset + 4].copy_from_slice(&encode(e, v, 4));
            assert!(page == want, "sr[{n}] {e}");
        }
    }
}

#[test]
fn mas_halves_follow_the_value_not_the_memory_order() {
    // MAS7 = mas7_3 >> 32, MAS3 = (u32)mas7_3 (e500_emulate.c); on a big-endian page
    // MAS7 is the word at 176 and MAS3 the word at 180, on a little-endian page the
    // other way round.
    for (e, mas7_at, mas3_at) in [(Endian::Big, 176, 180), (Endian::Little, 180, 176)] {
        let mut page = [0u8; 4096];
        page[mas7_at..mas7_at + 4].copy_from_slice(&encode(e, 0x7777, 4));
        page[mas3_at..mas3_at + 4].copy_from_slice(&encode(e, 0x3333, 4));
        let view = MagicPage::from_array(&page).with_endian(e);
        assert_eq!(
            (view.mas7().unwrap(), view.mas3().unwrap()),
            (0x7777, 0x3333),
            "{e}"
        );
    }
}

#[test]
fn without_features_gated_accessors_fail_and_base_ones_work() {
    let page = [0u8; 4096];
    let view = MagicPage::from_array(&page).with_features(MagicFeatures::NONE);
    for (name, offset, _, _, _) in scalars() {
        let r = view.get(Selector::parse(name).unwrap());
        assert_eq!(r.is_ok(), offset < 168, "{name}");
    }
    assert!(view.sr(0).is_err());
    assert!(view.with_features(MagicFeatures::SR).sr(15).is_ok());
    assert!(view.with_features(MagicFeatures::SR).pir().is_err());
    assert!(view.with_features(MagicFeatures::MAINLINE).pir().is_ok());
}
