//! The scanner and the patched-copy writer agree with `check` word by word, on
//! pseudo-random images with planted candidates, in both byte orders and at every
//! length around the scanner's 32-word blocks.

use ppcpv::Endian;
use ppcpv::hcall::MagicFeatures;
use ppcpv::paravirt::{Config, Outcome, PATTERNS, ScanConfig, Tally, check, scan, write_patched};

fn image(words: usize, seed: u64) -> Vec<u32> {
    let mut x = seed | 1;
    (0..words)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = (x >> 32) as u32;
            match r % 8 {
                // A pattern word with a random register.
                0 => PATTERNS[i % PATTERNS.len()].opcode | (r & 0x03e0_0000),
                1 | 2 => 0x7c00_0000 | (r & 0x03ff_ffff),
                _ => r,
            }
        })
        .collect()
}

#[test]
fn scan_matches_check_word_by_word() {
    let configs = [
        Config::BOOK3S_64,
        Config::BOOK3S_32,
        Config::E500,
        Config::BOOK3E_64,
    ];
    for (k, &config) in configs.iter().enumerate() {
        for endian in [Endian::Big, Endian::Little] {
            let sc = ScanConfig::new(config, MagicFeatures(k as u64 % 4), endian);
            let words = image(1000, 0x1234 + k as u64);
            let bytes: Vec<u8> = words.iter().flat_map(|&w| endian.u32_to(w)).collect();
            for cut in [0usize, 1, 2, 3, 4, 127, 128, 129, 131, 4 * 999 + 3] {
                let data = &bytes[cut.min(bytes.len())..];
                let mut tally = Tally::default();
                let mut got = Vec::new();
                scan(data, cut as u64, None, &sc, &mut tally, |s| {
                    got.push((s.offset, s.word))
                });
                let want: Vec<(u64, u32)> = data
                    .chunks_exact(4)
                    .enumerate()
                    .map(|(i, c)| ((cut + 4 * i) as u64, endian.u32_from(c.try_into().unwrap())))
                    .filter(|&(_, w)| check(w, sc.config, sc.features).is_some())
                    .collect();
                assert_eq!(got, want, "{config} {endian} cut {cut}");
                assert_eq!(tally.words, (data.len() / 4) as u64);
                assert_eq!(tally.trailing_bytes, (data.len() % 4) as u64);
                assert_eq!(
                    tally.totals(sc.config, sc.features).candidates,
                    want.len() as u64
                );
            }

            // The patched copy: every direct rewrite applied, nothing else touched.
            let mut out = Vec::new();
            let region = 0..bytes.len() as u64;
            write_patched(&bytes, std::slice::from_ref(&region), &sc, &mut out).unwrap();
            assert_eq!(out.len(), bytes.len());
            for (c_in, c_out) in bytes.chunks_exact(4).zip(out.chunks_exact(4)) {
                let w = endian.u32_from(c_in.try_into().unwrap());
                let want = match check(w, sc.config, sc.features).map(|d| d.outcome) {
                    Some(Outcome::Patch(r)) => r.word().unwrap_or(w),
                    _ => w,
                };
                assert_eq!(endian.u32_from(c_out.try_into().unwrap()), want);
            }
        }
    }
}
