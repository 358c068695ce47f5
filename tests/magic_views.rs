//! The typed views through the public API only, against offsets written out by hand
//! from `struct kvm_vcpu_arch_shared` in `torvalds/linux:
//! arch/powerpc/include/uapi/asm/kvm_para.h` (not from ppcpv's own table): every typed
//! getter and setter, in both byte orders, reads and writes exactly the bytes the
//! kernel's layout says. The volatile view must agree with the slice views field for
//! field, and must never return a torn value while another process writes the page.

use ppcpv::Endian;
use ppcpv::hcall::MagicFeatures;
use ppcpv::magic::{MagicPage, MagicPageMut, Selector, VolatileMagicPage};

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

/// A page-aligned page, as guest RAM is.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

/// Calls macro `$mac` with every typed accessor pair of the views (`getter setter`).
macro_rules! each_typed {
    ($mac:ident) => {
        $mac!(scratch1 set_scratch1, scratch2 set_scratch2, scratch3 set_scratch3,
            critical set_critical, sprg0 set_sprg0, sprg1 set_sprg1, sprg2 set_sprg2,
            sprg3 set_sprg3, srr0 set_srr0, srr1 set_srr1, dar set_dar, msr set_msr,
            dsisr set_dsisr, int_pending set_int_pending, mas0 set_mas0, mas1 set_mas1,
            mas7_3 set_mas7_3, mas7 set_mas7, mas3 set_mas3, mas2 set_mas2, mas4 set_mas4,
            mas6 set_mas6, esr set_esr, pir set_pir, sprg4 set_sprg4, sprg5 set_sprg5,
            sprg6 set_sprg6, sprg7 set_sprg7)
    };
}

#[test]
fn volatile_view_agrees_with_the_slice_views_field_for_field() {
    for e in [Endian::Big, Endian::Little] {
        for features in [
            MagicFeatures::MAINLINE,
            MagicFeatures::SR,
            MagicFeatures::NONE,
        ] {
            // Reads: the same bytes through both views give the same answers (values,
            // and errors for gated fields).
            let mut bytes = [0u8; 4096];
            for (i, b) in bytes.iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(37).wrapping_add(11);
            }
            let mut live = Page(bytes);
            let vol = VolatileMagicPage::from_mut(&mut live.0)
                .unwrap()
                .with_endian(e)
                .with_features(features);
            let snap = MagicPage::from_array(&bytes)
                .with_endian(e)
                .with_features(features);
            macro_rules! reads {
                ($($get:ident $set:ident),*) => {$(
                    assert_eq!(
                        format!("{:?}", vol.$get()),
                        format!("{:?}", snap.$get()),
                        "{} {e} {features:?}", stringify!($get)
                    );
                )*};
            }
            each_typed!(reads);
            for n in 0..17 {
                assert_eq!(vol.sr(n), snap.sr(n), "sr({n}) {e}");
            }
            for sel in Selector::all().chain([Selector::Mas7, Selector::Mas3]) {
                assert_eq!(vol.get(sel), snap.get(sel), "{sel} {e}");
                assert_eq!(vol.get32(sel), snap.get32(sel), "{sel} {e}");
            }
            assert_eq!(vol.snapshot(), snap.snapshot());

            // Writes: each typed setter changes the same bytes in both views.
            macro_rules! writes {
                ($($get:ident $set:ident),*) => {$(
                    let mut a = Page([0x5a; 4096]);
                    let mut b = [0x5au8; 4096];
                    let vol = VolatileMagicPage::from_mut(&mut a.0)
                        .unwrap()
                        .with_endian(e)
                        .with_features(features);
                    let mut mutv = MagicPageMut::from_array(&mut b)
                        .with_endian(e)
                        .with_features(features);
                    let v = 0x8877_6655_4433_2211u64;
                    #[allow(clippy::cast_possible_truncation)]
                    let (r1, r2) = (
                        format!("{:?}", vol.$set(v as _)),
                        format!("{:?}", mutv.$set(v as _)),
                    );
                    assert_eq!(r1, r2, "{} {e} {features:?}", stringify!($set));
                    assert!(a.0 == b, "{} {e} {features:?}", stringify!($set));
                )*};
            }
            each_typed!(writes);
            let mut a = Page([0; 4096]);
            let mut b = [0u8; 4096];
            let vol = VolatileMagicPage::from_mut(&mut a.0)
                .unwrap()
                .with_endian(e)
                .with_features(features);
            let mut mutv = MagicPageMut::from_array(&mut b)
                .with_endian(e)
                .with_features(features);
            for n in 0..17 {
                assert_eq!(
                    vol.set_sr(n, 0x1000 + n as u32),
                    mutv.set_sr(n, 0x1000 + n as u32)
                );
            }
            for sel in Selector::all() {
                assert_eq!(vol.set(sel, 7), mutv.set(sel, 7), "{sel}");
                assert_eq!(vol.set32(sel, 9), mutv.set32(sel, 9), "{sel}");
            }
            assert!(a.0 == b, "{e} {features:?}");
        }
    }
}

/// Values whose every byte differs between the two, so that any mix of them is neither.
const A64: u64 = 0x0123_4567_89ab_cdef;
const B64: u64 = !A64;
const A32: u32 = 0x1357_9bdf;
const B32: u32 = !A32;
const TORN_ENV: &str = "PPCPV_TEST_TORN_WRITER";

/// The writer half of `volatile_view_never_tears`: does nothing unless the test below
/// started this binary as its child with the image path in the environment.
#[test]
fn torn_writer_child() {
    let Ok(spec) = std::env::var(TORN_ENV) else {
        return;
    };
    let (order, path) = spec.split_once(':').unwrap();
    let e = if order == "little" {
        Endian::Little
    } else {
        Endian::Big
    };
    let img = ppcpv::magic::GuestImage::open(
        std::path::Path::new(path),
        ppcpv::magic::ImageOptions::new().writable(true),
    )
    .unwrap();
    let mut page = img.page_mut(0).unwrap();
    let v = page.volatile(e, MagicFeatures::MAINLINE).unwrap();
    let start = std::time::Instant::now();
    let mut flip = false;
    while start.elapsed() < std::time::Duration::from_millis(300) {
        for _ in 0..1000 {
            flip = !flip;
            v.set_msr(if flip { A64 } else { B64 });
            v.set_int_pending(if flip { A32 } else { B32 });
        }
    }
}

/// A second process stands in for the guest's vCPU: it writes `msr` (u64) and
/// `int_pending` (u32) of a shared file mapping as fast as it can, alternating values
/// that differ in every byte, while this process reads them through its own volatile
/// view. Every value read must be one of the two (or the initial zero): one volatile
/// access per naturally aligned field is never torn on a 64-bit host.
#[test]
#[cfg(target_pointer_width = "64")]
fn volatile_view_never_tears() {
    for e in [Endian::Big, Endian::Little] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ram.img");
        std::fs::write(&path, [0u8; 4096]).unwrap();
        let img =
            ppcpv::magic::GuestImage::open(&path, ppcpv::magic::ImageOptions::new().writable(true))
                .unwrap();
        let mut page = img.page_mut(0).unwrap();
        let v = page.volatile(e, MagicFeatures::MAINLINE).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "torn_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(TORN_ENV, format!("{e}:{}", path.display()))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (mut seen_a, mut seen_b, mut reads) = (0u64, 0u64, 0u64);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            for _ in 0..1000 {
                let m = v.msr();
                let i = v.int_pending();
                assert!(m == 0 || m == A64 || m == B64, "torn msr {m:#x} ({e})");
                assert!(
                    i == 0 || i == A32 || i == B32,
                    "torn int_pending {i:#x} ({e})"
                );
                seen_a += u64::from(m == A64);
                seen_b += u64::from(m == B64);
                reads += 1;
            }
            if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
                break;
            }
        }
        assert!(child.wait().unwrap().success());
        // The writer ran while we read (else the test proved nothing).
        assert!(
            seen_a > 0 && seen_b > 0,
            "{e}: {seen_a} A, {seen_b} B in {reads} reads"
        );
    }
}
