//! Scanning a code image word by word, and writing a patched copy.
//!
//! Linux walks `_stext.._etext` one aligned word at a time and calls `kvm_check_ins`
//! on each (`torvalds/linux: arch/powerpc/kernel/kvm.c (kvm_use_magic_page)`). The
//! scanner does the same over a byte slice (usually a memory-mapped file): it keeps
//! only counters, and hands every matching word to a callback as a [`Site`], so memory
//! use does not depend on the size of the image or the number of sites.
//!
//! Every `kvm.c` pattern has primary opcode 31 and one of nine XO values, so the hot
//! loop masks each word with [`XO_KEY_MASK`] and compares it with [`XO_KEYS`], 32 words
//! at a time without a data-dependent branch; only the rare hits are classified
//! ([`classify`](super::classify)). [`scan_parallel`] deals segments to threads.

use super::Config;
#[cfg(feature = "std")]
use super::Rewrite;
use super::rules::{Decision, OutcomeClass, PATTERN_COUNT, PATTERNS, XO_KEY_MASK, XO_KEYS};
use crate::Endian;
use crate::hcall::MagicFeatures;
#[cfg(feature = "std")]
use alloc::vec::Vec;
#[cfg(feature = "std")]
use core::ops::Range;
#[cfg(feature = "std")]
use std::io::{self, Write};

/// Everything that decides what Linux patches, besides the words themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ScanConfig {
    /// The guest kernel's configuration.
    pub config: Config,
    /// The host's answer to `KVM_HC_PPC_MAP_MAGIC_PAGE` (mainline: 0x3).
    pub features: MagicFeatures,
    /// The byte order of the code.
    pub endian: Endian,
}

impl ScanConfig {
    /// A scan configuration from its three parts.
    #[must_use]
    pub const fn new(config: Config, features: MagicFeatures, endian: Endian) -> ScanConfig {
        ScanConfig {
            config,
            features,
            endian,
        }
    }
}

/// One word Linux would look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Site {
    /// Byte offset of the word in the scanned input.
    pub offset: u64,
    /// Its virtual address, when the input says (ELF sections).
    pub address: Option<u64>,
    /// The original word.
    pub word: u32,
    /// The pattern and what Linux does with it.
    pub decision: Decision,
}

/// Counters of one or more scans.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tally {
    /// Whole words examined.
    pub words: u64,
    /// Bytes at the end of regions too short to form a word.
    pub trailing_bytes: u64,
    /// Matches per pattern, indexed like [`PATTERNS`].
    pub per_pattern: [u64; PATTERN_COUNT],
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            words: 0,
            trailing_bytes: 0,
            per_pattern: [0; PATTERN_COUNT],
        }
    }
}

/// Totals of a [`Tally`] under one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Totals {
    /// Words matching any `kvm.c` pattern.
    pub candidates: u64,
    /// Words Linux rewrites in place (load, store, nop).
    pub direct: u64,
    /// Words Linux replaces with a branch to a template.
    pub template: u64,
    /// Matching words Linux leaves alone (compiled out or a missing feature).
    pub skipped: u64,
}

impl Totals {
    /// Words Linux patches at all: `direct + template`.
    #[must_use]
    pub const fn patched(&self) -> u64 {
        self.direct.saturating_add(self.template)
    }
}

impl Tally {
    /// Adds another tally.
    pub fn merge(&mut self, other: &Tally) {
        self.words = self.words.saturating_add(other.words);
        self.trailing_bytes = self.trailing_bytes.saturating_add(other.trailing_bytes);
        for (a, b) in self.per_pattern.iter_mut().zip(other.per_pattern.iter()) {
            *a = a.saturating_add(*b);
        }
    }

    /// Candidates, direct rewrites, template branches and skips under `cfg`/`features`.
    /// The class of a pattern does not depend on the register, so it is decided once
    /// per pattern.
    #[must_use]
    pub fn totals(&self, cfg: Config, features: MagicFeatures) -> Totals {
        let mut t = Totals::default();
        for (p, &n) in PATTERNS.iter().zip(self.per_pattern.iter()) {
            t.candidates = t.candidates.saturating_add(n);
            let slot = match p.decide(p.opcode, cfg, features).class() {
                OutcomeClass::Direct => &mut t.direct,
                OutcomeClass::Template => &mut t.template,
                OutcomeClass::Skipped => &mut t.skipped,
            };
            *slot = slot.saturating_add(n);
        }
        t
    }
}

/// Scans `bytes` as instruction words: counts into `tally`, and calls `on_site` for
/// each word that matches a pattern. `offset` and `address` locate `bytes[0]` (the
/// address is `None` for raw blobs). A tail shorter than a word is counted in
/// [`Tally::trailing_bytes`], never read as a word.
pub fn scan<F: FnMut(&Site)>(
    bytes: &[u8],
    offset: u64,
    address: Option<u64>,
    sc: &ScanConfig,
    tally: &mut Tally,
    mut on_site: F,
) {
    let mut hit = |i: usize, word: u32| {
        let Some(decision) = super::check(word, sc.config, sc.features) else {
            return;
        };
        if let Some(n) = tally.per_pattern.get_mut(decision.index) {
            *n = n.saturating_add(1);
        }
        let delta = (i as u64).saturating_mul(4);
        on_site(&Site {
            offset: offset.saturating_add(delta),
            address: address.map(|a| a.wrapping_add(delta)),
            word,
            decision,
        });
    };
    match sc.endian {
        Endian::Big => scan_words(bytes, Endian::Big, &mut hit),
        Endian::Little => scan_words(bytes, Endian::Little, &mut hit),
    }
    tally.words = tally.words.saturating_add((bytes.len() / 4) as u64);
    tally.trailing_bytes = tally
        .trailing_bytes
        .saturating_add((bytes.len() % 4) as u64);
}

/// Bytes a worker of [`scan_parallel`] scans per hand-off (a multiple of 4, so every
/// segment starts on a word of the region). It bounds memory: a segment yields at most
/// 32768 sites, and each worker has at most two segments' sites in flight.
pub const SEGMENT_BYTES: usize = 128 << 10;

/// One segment's results, handed from a worker to the caller's thread.
#[cfg(feature = "std")]
type SegmentResult = (Tally, Vec<Site>);

/// [`scan`] on `threads` threads: the input is cut into [`SEGMENT_BYTES`] segments,
/// dealt round-robin to the workers, and their sites are handed back through bounded
/// channels and passed to `on_site` on the calling thread, in input order. Counts and
/// sites are exactly those of [`scan`]; memory stays bounded by the segment size and
/// the number of threads, whatever the size of the input. With one thread, or an input
/// of one segment, this is [`scan`].
///
/// Needs feature `std` (threads).
///
/// # Panics
/// Only if a worker panics (a bug), in which case the panic is propagated.
#[cfg(feature = "std")]
pub fn scan_parallel<F: FnMut(&Site)>(
    bytes: &[u8],
    offset: u64,
    address: Option<u64>,
    sc: &ScanConfig,
    threads: usize,
    tally: &mut Tally,
    mut on_site: F,
) {
    let threads = threads.clamp(1, 64);
    if threads == 1 || bytes.len() <= SEGMENT_BYTES {
        scan(bytes, offset, address, sc, tally, on_site);
        return;
    }
    let segments: Vec<&[u8]> = bytes.chunks(SEGMENT_BYTES).collect();
    let count = segments.len();
    let run = |k: usize, seg: &[u8]| -> SegmentResult {
        let delta = (k as u64).saturating_mul(SEGMENT_BYTES as u64);
        let mut t = Tally::default();
        let mut sites = Vec::new();
        scan(
            seg,
            offset.saturating_add(delta),
            address.map(|a| a.wrapping_add(delta)),
            sc,
            &mut t,
            |s| sites.push(*s),
        );
        (t, sites)
    };
    std::thread::scope(|scope| {
        let mut receivers = Vec::with_capacity(threads);
        for w in 0..threads {
            let (tx, rx) = std::sync::mpsc::sync_channel::<SegmentResult>(1);
            receivers.push(rx);
            let segments = &segments;
            let run = &run;
            scope.spawn(move || {
                for k in (w..count).step_by(threads) {
                    let Some(seg) = segments.get(k) else { break };
                    if tx.send(run(k, seg)).is_err() {
                        break; // the caller stopped receiving
                    }
                }
            });
        }
        for k in 0..count {
            let Some(rx) = receivers.get(k % threads) else {
                break;
            };
            // A closed channel means the worker panicked; the scope re-raises it.
            let Ok((t, sites)) = rx.recv() else { break };
            tally.merge(&t);
            for s in &sites {
                on_site(s);
            }
        }
        // Unblock any worker still waiting to send before the scope joins them.
        drop(receivers);
    });
}

/// Words per block of the hot loop: one bit each in a `u32` mask.
const BLOCK_WORDS: usize = 32;

/// The hot loop, one copy per byte order. For each block of 32 words it builds a bit
/// mask of the words whose opcode, XO and Rc are one of [`XO_KEYS`], with compares the
/// compiler turns into SIMD and no data-dependent branch; only the (rare) set bits go
/// on to [`classify`](super::classify) through `hit`. The bytes are loaded
/// little-endian and, for big-endian code, compared with byte-swapped keys, so neither
/// order pays for a byte swap.
#[inline(always)]
fn scan_words<F: FnMut(usize, u32)>(bytes: &[u8], endian: Endian, hit: &mut F) {
    let swap = |v: u32| match endian {
        Endian::Big => v.swap_bytes(),
        Endian::Little => v,
    };
    let key_mask = swap(XO_KEY_MASK);
    let keys = XO_KEYS.map(swap);
    let load = |c: &[u8]| endian.u32_from(<[u8; 4]>::try_from(c).unwrap_or_default());
    let mut blocks = bytes.chunks_exact(BLOCK_WORDS * 4);
    let mut base = 0usize;
    for block in &mut blocks {
        let mut raw = [0u32; BLOCK_WORDS];
        for (r, c) in raw.iter_mut().zip(block.chunks_exact(4)) {
            *r = Endian::Little.read_u32(c);
        }
        let mut mask = 0u32;
        for (j, r) in raw.iter().enumerate() {
            let m = r & key_mask;
            let any = keys.iter().fold(false, |acc, &k| acc | (m == k));
            mask |= u32::from(any) << j;
        }
        while mask != 0 {
            let j = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if let Some(c) = block.get(j * 4..j * 4 + 4) {
                hit(base + j, load(c));
            }
        }
        base += BLOCK_WORDS;
    }
    for (j, c) in blocks.remainder().chunks_exact(4).enumerate() {
        let word = load(c);
        if XO_KEYS.contains(&(word & XO_KEY_MASK)) {
            hit(base + j, word);
        }
    }
}

/// What [`write_patched`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ApplyStats {
    /// Words rewritten in place (loads, stores, nops).
    pub rewritten: u64,
    /// Words Linux would branch to a template for, left unchanged here.
    pub templates_left: u64,
    /// Matching words Linux leaves alone too.
    pub skipped: u64,
}

/// Bytes processed per step by [`write_patched`]: a multiple of 4.
#[cfg(feature = "std")]
const APPLY_CHUNK: usize = 1 << 20;

/// Writes `data` to `out` with every direct rewrite (load, store, nop) applied inside
/// `regions` (byte ranges of `data` holding code; each starts a word). Template
/// branches are not applied: they need Linux's `kvm_tmp` area and a copy of the
/// template per site. Regions are clipped to `data` and to each other; everything
/// outside them is copied unchanged. Memory use is one fixed-size buffer.
///
/// # Errors
/// Whatever `out` returns.
#[cfg(feature = "std")]
pub fn write_patched<W: Write>(
    data: &[u8],
    regions: &[Range<u64>],
    sc: &ScanConfig,
    out: &mut W,
) -> io::Result<ApplyStats> {
    let mut sorted: Vec<Range<usize>> = regions
        .iter()
        .filter_map(|r| {
            let start = usize::try_from(r.start).ok()?.min(data.len());
            let end = usize::try_from(r.end).ok()?.min(data.len());
            (start < end).then_some(start..end)
        })
        .collect();
    sorted.sort_by_key(|r| r.start);
    let mut stats = ApplyStats::default();
    let mut buf = Vec::new();
    let mut pos = 0usize;
    for r in sorted {
        // A region overlapping the previous one starts at its first word past `pos`,
        // keeping its own word alignment.
        let start = if r.start >= pos {
            r.start
        } else {
            let behind = pos - r.start;
            r.start.saturating_add(behind.div_ceil(4).saturating_mul(4))
        };
        if start >= r.end {
            continue;
        }
        out.write_all(data.get(pos..start).unwrap_or_default())?;
        let mut at = start;
        while at < r.end {
            let end = at.saturating_add(APPLY_CHUNK).min(r.end);
            let src = data.get(at..end).unwrap_or_default();
            buf.clear();
            buf.extend_from_slice(src);
            patch_words(&mut buf, sc, &mut stats);
            out.write_all(&buf)?;
            at = end;
        }
        pos = r.end.max(pos);
    }
    out.write_all(data.get(pos..).unwrap_or_default())?;
    Ok(stats)
}

/// Applies direct rewrites to whole words of `buf` in place.
#[cfg(feature = "std")]
fn patch_words(buf: &mut [u8], sc: &ScanConfig, stats: &mut ApplyStats) {
    for chunk in buf.chunks_exact_mut(4) {
        let Ok(b) = <[u8; 4]>::try_from(&*chunk) else {
            continue;
        };
        let word = sc.endian.u32_from(b);
        let Some(d) = super::check(word, sc.config, sc.features) else {
            continue;
        };
        match d.outcome {
            super::Outcome::Patch(r @ (Rewrite::Access(_) | Rewrite::Nop)) => {
                if let Some(new) = r.word() {
                    chunk.copy_from_slice(&sc.endian.u32_to(new));
                    stats.rewritten += 1;
                }
            }
            super::Outcome::Patch(Rewrite::Branch(_)) => stats.templates_left += 1,
            super::Outcome::Skip(_) => stats.skipped += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[u32], e: Endian) -> Vec<u8> {
        ws.iter().flat_map(|&w| e.u32_to(w)).collect()
    }

    #[test]
    fn counts_sites_and_trailing_bytes() {
        for endian in [Endian::Big, Endian::Little] {
            let sc = ScanConfig {
                config: Config::BOOK3S_64,
                features: MagicFeatures::MAINLINE,
                endian,
            };
            let mut data = words(
                &[0x7c60_00a6, 0x6000_0000, 0x7c00_046c, 0x7c01_0164],
                endian,
            );
            data.extend_from_slice(&[1, 2, 3]);
            let mut tally = Tally::default();
            let mut sites = Vec::new();
            scan(&data, 0x100, Some(0xc000_0000), &sc, &mut tally, |s| {
                sites.push(*s)
            });
            assert_eq!(tally.words, 4);
            assert_eq!(tally.trailing_bytes, 3);
            assert_eq!(sites.len(), 3);
            assert_eq!(sites[0].offset, 0x100);
            assert_eq!(sites[1].offset, 0x108);
            assert_eq!(sites[2].address, Some(0xc000_000c));
            let t = tally.totals(sc.config, sc.features);
            assert_eq!(
                (t.candidates, t.direct, t.template, t.skipped),
                (3, 2, 1, 0)
            );
        }
    }

    #[test]
    fn parallel_scan_equals_sequential() {
        let sc = ScanConfig {
            config: Config::E500,
            features: MagicFeatures::MAINLINE,
            endian: Endian::Big,
        };
        // 3.5 segments of candidates and fillers, plus 3 trailing bytes.
        let n = SEGMENT_BYTES * 7 / 8;
        let pattern = [
            0x7c60_00a6u32,
            0x6000_0000,
            0x7c70_eaa6,
            0x3860_ffff,
            0x7c00_8146,
        ];
        let mut data = words(&pattern.repeat(n / pattern.len()), Endian::Big);
        data.extend_from_slice(&[1, 2, 3]);
        let mut seq = Tally::default();
        let mut seq_sites = Vec::new();
        scan(&data, 16, Some(0x1000), &sc, &mut seq, |s| {
            seq_sites.push(*s)
        });
        for threads in [1, 2, 3, 8] {
            let mut par = Tally::default();
            let mut par_sites = Vec::new();
            scan_parallel(&data, 16, Some(0x1000), &sc, threads, &mut par, |s| {
                par_sites.push(*s);
            });
            assert_eq!(par, seq, "{threads} threads");
            assert!(par_sites == seq_sites, "{threads} threads: sites differ");
        }
    }

    #[test]
    fn empty_and_tiny_inputs() {
        let sc = ScanConfig::default();
        for len in 0..4 {
            let mut tally = Tally::default();
            scan(&[0x7c; 3][..len], 0, None, &sc, &mut tally, |_| {
                panic!("no site")
            });
            assert_eq!(tally.words, 0);
            assert_eq!(tally.trailing_bytes, len as u64);
        }
    }

    #[test]
    fn write_patched_applies_direct_rewrites_only() {
        let sc = ScanConfig {
            config: Config::BOOK3S_64,
            features: MagicFeatures::MAINLINE,
            endian: Endian::Big,
        };
        let mut data = vec![0xaa, 0xbb];
        data.extend(words(&[0x7c60_00a6, 0x7c01_0164, 0x7c00_046c], Endian::Big));
        data.push(0xcc);
        let mut out = Vec::new();
        let stats = write_patched(&data, std::slice::from_ref(&(2..14)), &sc, &mut out).unwrap();
        let mut want = vec![0xaa, 0xbb];
        want.extend(words(&[0xe860_f058, 0x7c01_0164, 0x6000_0000], Endian::Big));
        want.push(0xcc);
        assert_eq!(out, want);
        assert_eq!(stats.rewritten, 2);
        assert_eq!(stats.templates_left, 1);
        // Out-of-range and overlapping regions are clipped, never a panic.
        let mut out = Vec::new();
        write_patched(
            &data,
            &[2..6, 4..100, u64::MAX - 1..u64::MAX],
            &sc,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), data.len());
    }
}
