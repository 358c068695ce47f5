//! A hashed index of names whose text the caller keeps: the slots hold only a hash
//! and a `u32` value, and a lookup asks the caller whether the value's name is the one
//! sought. Used where the same few names are looked up once per property of a large
//! tree (the compiler's name interning, the writer's strings block), where an ordered
//! map spent most of its time comparing strings.

use alloc::vec;
use alloc::vec::Vec;

/// FxHash-style multiply-rotate over 8-byte words, then a finaliser: fast on the short
/// names of device trees; the table resolves collisions by comparing the names, so hash quality only
/// affects speed.
pub(crate) fn hash(name: &[u8]) -> u32 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h: u64 = name.len() as u64;
    let mut chunks = name.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // The multiplications only carry upwards, so the low bits (the table index)
    // would hardly depend on the last bytes ("dev@100", "dev@200"): murmur3's
    // finaliser mixes every bit into every other.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h as u32
}

/// Open addressing with linear probing; at most half full.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    /// `(hash, value + 1)`; a second field of 0 marks an empty slot.
    slots: Vec<(u32, u32)>,
    len: usize,
}

impl NameIndex {
    /// The value stored for `name`: `is` tells whether a stored value stands for it.
    pub(crate) fn find(&self, name: &[u8], is: impl Fn(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let h = hash(name);
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        loop {
            let (sh, v) = self.slots[i];
            if v == 0 {
                return None;
            }
            if sh == h && is(v - 1) {
                return Some(v - 1);
            }
            i = (i + 1) & mask;
        }
    }

    /// Stores `value` for `name` in place of the value `is` recognises, or as a new
    /// entry; returns the value replaced.
    pub(crate) fn replace(
        &mut self,
        name: &[u8],
        is: impl Fn(u32) -> bool,
        value: u32,
    ) -> Option<u32> {
        let v1 = value.checked_add(1)?;
        if !self.slots.is_empty() {
            let h = hash(name);
            let mask = self.slots.len() - 1;
            let mut i = h as usize & mask;
            loop {
                let (sh, v) = self.slots[i];
                if v == 0 {
                    break;
                }
                if sh == h && is(v - 1) {
                    self.slots[i].1 = v1;
                    return Some(v - 1);
                }
                i = (i + 1) & mask;
            }
        }
        self.insert(name, value);
        None
    }

    /// Records `value` for `name`, which must not be stored yet. Values of `u32::MAX`
    /// are not stored (callers never have that many names).
    pub(crate) fn insert(&mut self, name: &[u8], value: u32) {
        let Some(v1) = value.checked_add(1) else {
            return;
        };
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let h = hash(name);
        self.put(h, v1);
        self.len += 1;
    }

    fn put(&mut self, h: u32, v1: u32) {
        let mask = self.slots.len() - 1;
        let mut i = h as usize & mask;
        while self.slots[i].1 != 0 {
            i = (i + 1) & mask;
        }
        self.slots[i] = (h, v1);
    }

    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(16);
        let old = core::mem::replace(&mut self.slots, vec![(0, 0); n]);
        for (h, v1) in old {
            if v1 != 0 {
                self.put(h, v1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;

    #[test]
    fn finds_what_was_inserted_and_nothing_else() {
        let names: Vec<String> = (0..1000).map(|i| format!("name-{i}")).collect();
        let mut ix = NameIndex::default();
        for (i, n) in names.iter().enumerate() {
            let is = |v: u32| names[v as usize] == *n;
            assert_eq!(ix.find(n.as_bytes(), is), None);
            ix.insert(n.as_bytes(), i as u32);
        }
        for (i, n) in names.iter().enumerate() {
            let is = |v: u32| names[v as usize] == *n;
            assert_eq!(ix.find(n.as_bytes(), is), Some(i as u32));
        }
        assert_eq!(ix.find(b"absent", |v| names[v as usize] == "absent"), None);
        assert_eq!(hash(b""), hash(b""));
        let mut last = NameIndex::default();
        let words = ["a", "b", "a", "a"];
        let mut seen = Vec::new();
        for (i, w) in words.iter().enumerate() {
            seen.push(last.replace(w.as_bytes(), |v| words[v as usize] == *w, i as u32));
        }
        assert_eq!(seen, [None, None, Some(0), Some(2)]);
        assert_ne!(hash(b"reg"), hash(b"reg\0"));
    }
}
