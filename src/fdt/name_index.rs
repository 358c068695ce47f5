//! A hashed index of names whose text the caller keeps: the entries hold only a hash
//! and a `u32` value, and a lookup asks the caller whether the value's name is the one
//! sought. Used where the same few names are looked up once per property of a large
//! tree (the compiler's name interning, the writer's strings block), where an ordered
//! map spent most of its time comparing strings.

use hashbrown::HashTable;

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

/// The table is hashbrown's `HashTable` (already in the graph through vm-fdt): each
/// entry keeps its name's hash, so growing never asks for the names again.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    table: HashTable<(u32, u32)>,
}

/// The table's 64-bit hash from the stored 32-bit one. hashbrown takes its 7-bit
/// control tag from the top bits, which a zero-extended `u32` would leave all zero
/// (every slot a tag match); the odd multiplier moves every bit of `h` upwards.
fn wide(h: u32) -> u64 {
    u64::from(h).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl NameIndex {
    /// The value stored for `name`: `is` tells whether a stored value stands for it.
    pub(crate) fn find(&self, name: &[u8], is: impl Fn(u32) -> bool) -> Option<u32> {
        let h = hash(name);
        self.table
            .find(wide(h), |&(eh, v)| eh == h && is(v))
            .map(|&(_, v)| v)
    }

    /// Stores `value` for `name` in place of the value `is` recognises, or as a new
    /// entry; returns the value replaced.
    pub(crate) fn replace(
        &mut self,
        name: &[u8],
        is: impl Fn(u32) -> bool,
        value: u32,
    ) -> Option<u32> {
        let h = hash(name);
        if let Some(entry) = self.table.find_mut(wide(h), |&(eh, v)| eh == h && is(v)) {
            return Some(core::mem::replace(&mut entry.1, value));
        }
        self.push(h, value);
        None
    }

    /// Records `value` for `name`, which must not be stored yet.
    pub(crate) fn insert(&mut self, name: &[u8], value: u32) {
        self.push(hash(name), value);
    }

    fn push(&mut self, h: u32, value: u32) {
        self.table
            .insert_unique(wide(h), (h, value), |&(eh, _)| wide(eh));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;

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
