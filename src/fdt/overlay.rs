//! Applying device-tree overlays byte for byte as dtc 1.6.1's `fdtoverlay` does.
//!
//! `fdtoverlay -i BASE -o OUT OVERLAY...` (`dgibson/dtc: fdtoverlay.c`, `do_fdtoverlay`,
//! `apply_one`) opens the base into a larger buffer with `fdt_open_into`, applies each
//! overlay in place with libfdt's `fdt_overlay_apply` (`libfdt/fdt_overlay.c`), retrying
//! with a buffer 64 KiB larger whenever an edit does not fit, and finally packs the blob
//! with `fdt_pack` (`libfdt/fdt_rw.c`). [`apply`] follows those steps on one buffer, with
//! the same in-place edits (`fdt_splice_`, `fdt_setprop`, `fdt_add_subnode`,
//! `fdt_find_add_string_`), so the result has the same bytes, including the ones libfdt
//! does not write:
//!
//! * a new property goes before the node's first property and a new node before its
//!   parent's first child, so they come out in reverse overlay order;
//! * property names are found anywhere in the strings block, also as the tail of a longer
//!   name, and new ones appended;
//! * the padding after a value whose length is not a multiple of four keeps whatever the
//!   buffer held at that place before the edit (`fdt_splice_` moves the tail but never
//!   clears the gap it opens); bytes past the old data are taken to be zero, as a fresh
//!   allocation is;
//! * the result is packed: header, reservation map at 40, structure block, strings block,
//!   version 17, `totalsize` the end of the strings block; `last_comp_version` is the
//!   base's unless `fdt_open_into` had to reorder its blocks (then 16).
//!
//! The steps of `fdt_overlay_apply`: the overlay's own phandles are renumbered above the
//! base's largest (`overlay_adjust_local_phandles`) and its references to them follow
//! (`__local_fixups__`, `overlay_update_local_references`); references to base labels are
//! resolved through the base's `__symbols__` (`__fixups__`, `overlay_fixup_phandles`);
//! every `fragment` with an `__overlay__` node is merged into its target, named by
//! `target = <phandle>` or `target-path = "path or alias"` (`overlay_merge`); then the
//! overlay's `__symbols__` are added to the base's, rewritten to the paths where the
//! labelled nodes now are (`overlay_symbol_update`).
//!
//! Where libfdt returns a bare error code, [`apply`] says which overlay, which fragment,
//! which target, label or fix-up, and why ([`OverlayError`]). Nothing here knows what the
//! nodes mean.

use crate::fdt::reader::{FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_NOP, FDT_PROP};
use crate::fdt::{Fdt, FdtError};
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// Header byte offsets (devicetree specification v0.4, §5.2; libfdt `fdt.h`).
const H_MAGIC: usize = 0;
const H_TOTALSIZE: usize = 4;
const H_OFF_STRUCT: usize = 8;
const H_OFF_STRINGS: usize = 12;
const H_OFF_RSVMAP: usize = 16;
const H_VERSION: usize = 20;
const H_LAST_COMP: usize = 24;
const H_BOOT_CPU: usize = 28;
const H_SIZE_STRINGS: usize = 32;
const H_SIZE_STRUCT: usize = 36;
/// `sizeof(struct fdt_header)`, where `fdt_pack` puts the reservation map.
const HEADER_SIZE: usize = 40;
/// How deep alias values may refer to further aliases before the lookup gives up
/// (libfdt recurses without a limit).
const MAX_ALIAS_DEPTH: u32 = 32;

/// A target as the fragment names it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// `target = <phandle>`, with the label it was resolved from (`__fixups__`), if any.
    Phandle {
        /// The phandle value after fix-ups.
        phandle: u32,
        /// The base label the value came from.
        label: Option<String>,
    },
    /// `target-path = "..."` (a path, or an alias from the base's `/aliases`).
    Path(String),
}

impl core::fmt::Display for Target {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Target::Phandle {
                phandle,
                label: Some(l),
            } => write!(f, "target = <&{l}> (phandle {phandle:#x})"),
            Target::Phandle {
                phandle,
                label: None,
            } => write!(f, "target = <{phandle:#x}>"),
            Target::Path(p) => write!(f, "target-path = {p:?}"),
        }
    }
}

/// Why an overlay could not be applied. Messages name the fragment, target, label or
/// fix-up involved; `overlay` is the index of the overlay in the list given to [`apply`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverlayError {
    /// The base blob is malformed.
    #[error("base tree: {0}")]
    Base(FdtError),
    /// An overlay blob is malformed.
    #[error("overlay {overlay}: {source}")]
    Blob {
        /// Which overlay.
        overlay: usize,
        /// What is wrong with it.
        source: FdtError,
    },
    /// A blob of a format version libfdt does not edit (`fdt_open_into` wants 16 or 17).
    #[error(
        "{what} is a version {version} blob; overlays are applied to version 16 and 17 \
         blobs only (fdt_open_into); convert it with `dtc -I dtb -O dtb` first"
    )]
    Version {
        /// "base tree" or "overlay N".
        what: String,
        /// Its version.
        version: u32,
    },
    /// A fragment names no target.
    #[error(
        "overlay {overlay}: fragment {fragment} has an __overlay__ node but neither a \
         `target` nor a `target-path` property"
    )]
    NoTarget {
        /// Which overlay.
        overlay: usize,
        /// The fragment's path in the overlay.
        fragment: String,
    },
    /// A `target` that is not one phandle cell, or still the unresolved `0xffffffff`.
    #[error("overlay {overlay}: fragment {fragment}: {why}")]
    BadTarget {
        /// Which overlay.
        overlay: usize,
        /// The fragment's path in the overlay.
        fragment: String,
        /// What is wrong.
        why: String,
    },
    /// The target does not exist in the base.
    #[error("overlay {overlay}: fragment {fragment}: {target}: {why}")]
    TargetNotFound {
        /// Which overlay.
        overlay: usize,
        /// The fragment's path in the overlay.
        fragment: String,
        /// The target as written.
        target: Target,
        /// Why it is not found.
        why: String,
    },
    /// The overlay refers to base labels but the base has no `/__symbols__`.
    #[error(
        "overlay {overlay}: refers to label {label:?} of the base (__fixups__), but the base \
         tree has no /__symbols__ node: compile the base with `dtc -@` (or `ppcpv compile -@`)"
    )]
    NoBaseSymbols {
        /// Which overlay.
        overlay: usize,
        /// The first label referred to.
        label: String,
    },
    /// A label reference cannot be resolved in the base.
    #[error("overlay {overlay}: label {label:?} (fix-up {fixup:?}): {why}")]
    Label {
        /// Which overlay.
        overlay: usize,
        /// The label.
        label: String,
        /// The fix-up entry (`path:property:offset`).
        fixup: String,
        /// Why it cannot be resolved.
        why: String,
    },
    /// A `__fixups__` or `__local_fixups__` entry that does not fit the overlay.
    #[error("overlay {overlay}: {node}: {why}")]
    Fixup {
        /// Which overlay.
        overlay: usize,
        /// The fix-up node or property (`/__fixups__:uart0`, `/__local_fixups__/fragment@0`).
        node: String,
        /// What is wrong.
        why: String,
    },
    /// An overlay phandle that cannot be renumbered.
    #[error("overlay {overlay}: {node}: {why}")]
    Phandle {
        /// Which overlay.
        overlay: usize,
        /// The node's path in the overlay.
        node: String,
        /// What is wrong.
        why: String,
    },
    /// An overlay `__symbols__` entry that cannot be carried over.
    #[error("overlay {overlay}: __symbols__ {label:?}: {why}")]
    Symbol {
        /// Which overlay.
        overlay: usize,
        /// The label.
        label: String,
        /// What is wrong.
        why: String,
    },
    /// The result would exceed the format's 32-bit sizes.
    #[error("the result would exceed 4 GiB")]
    TooLarge,
    /// The buffer stopped being a well-formed tree (a bug; nothing is returned).
    #[error("internal error: malformed tree at buffer offset {0:#x}")]
    Internal(usize),
}

type Res<T> = Result<T, OverlayError>;

/// A property as `(offset, name, data offset, length)`.
type PropRef<'a> = (usize, Cow<'a, [u8]>, usize, usize);

fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Where a piece of the buffer's bytes lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    /// The input blob, borrowed.
    Input,
    /// Bytes written here, in [`Buf::own`].
    Own,
}

/// A run of the buffer's bytes.
#[derive(Debug, Clone, Copy)]
struct Piece {
    src: Src,
    off: usize,
    len: usize,
}

/// A blob in a buffer, edited the way libfdt edits in place: absolute byte offsets,
/// header fields read from the buffer, every `fdt_splice_` and write with libfdt's
/// effect on every byte (including the bytes past the data, which later splices can
/// expose). The buffer is a list of pieces of the input and of written bytes, so a
/// splice costs a few pieces rather than a move of the rest of the blob, and the
/// untouched bulk of a large tree is never copied until the result is written.
#[derive(Debug)]
struct Buf<'a> {
    input: &'a [u8],
    own: Vec<u8>,
    pieces: Vec<Piece>,
    /// Logical start of each piece.
    starts: Vec<usize>,
    /// Logical length: the data and whatever lies past it.
    total: usize,
    /// The piece the last lookup found (reads are mostly sequential).
    last: core::cell::Cell<usize>,
}

impl<'a> Buf<'a> {
    /// A buffer holding `input`.
    fn borrowed(input: &'a [u8]) -> Self {
        let mut b = Buf {
            input,
            own: Vec::new(),
            pieces: Vec::new(),
            starts: Vec::new(),
            total: 0,
            last: core::cell::Cell::new(0),
        };
        b.set_pieces(vec![Piece {
            src: Src::Input,
            off: 0,
            len: input.len(),
        }]);
        b
    }

    /// A buffer holding `bytes`, owned.
    fn owned(bytes: Vec<u8>) -> Buf<'static> {
        let len = bytes.len();
        let mut b = Buf {
            input: &[],
            own: bytes,
            pieces: Vec::new(),
            starts: Vec::new(),
            total: 0,
            last: core::cell::Cell::new(0),
        };
        b.set_pieces(vec![Piece {
            src: Src::Own,
            off: 0,
            len,
        }]);
        b
    }

    fn set_pieces(&mut self, pieces: Vec<Piece>) {
        self.starts.clear();
        let mut at = 0;
        self.pieces.clear();
        for p in pieces.into_iter().filter(|p| p.len > 0) {
            // Merge runs that continue each other.
            if let Some(l) = self.pieces.last_mut()
                && l.src == p.src
                && l.off + l.len == p.off
            {
                l.len += p.len;
                at += p.len;
                continue;
            }
            self.starts.push(at);
            self.pieces.push(p);
            at += p.len;
        }
        self.total = at;
        self.last.set(0);
    }

    fn bytes_of(&self, p: &Piece) -> &[u8] {
        let src = match p.src {
            Src::Input => self.input,
            Src::Own => &self.own,
        };
        &src[p.off..p.off + p.len]
    }

    /// The index of the piece holding logical byte `a`.
    fn locate(&self, a: usize) -> Option<usize> {
        if a >= self.total {
            return None;
        }
        let i = self.last.get();
        if let (Some(&s), Some(p)) = (self.starts.get(i), self.pieces.get(i))
            && s <= a
            && a < s + p.len
        {
            return Some(i);
        }
        let i = self.starts.partition_point(|&s| s <= a) - 1;
        self.last.set(i);
        Some(i)
    }

    /// The bytes from `a` to the end of the piece holding it.
    fn rest(&self, a: usize) -> &[u8] {
        match self.locate(a) {
            Some(i) => &self.bytes_of(&self.pieces[i])[a - self.starts[i]..],
            None => &[],
        }
    }

    /// `len` bytes at `a`, borrowed when one piece holds them; `None` past the end.
    fn get(&self, a: usize, len: usize) -> Option<Cow<'_, [u8]>> {
        let end = a.checked_add(len)?;
        if end > self.total {
            return None;
        }
        let r = self.rest(a);
        if r.len() >= len {
            return Some(Cow::Borrowed(&r[..len]));
        }
        let mut out = Vec::with_capacity(len);
        let mut at = a;
        while at < end {
            let r = self.rest(at);
            let n = r.len().min(end - at);
            out.extend_from_slice(&r[..n]);
            at += n;
        }
        Some(Cow::Owned(out))
    }

    /// The bytes from `a` up to (not including) the first NUL before `limit`.
    fn cstr_at(&self, a: usize, limit: usize) -> Option<Cow<'_, [u8]>> {
        let n = self.find_nul(a, limit)?;
        self.get(a, n - a)
    }

    /// The offset of the first NUL at or after `a` and before `limit`.
    fn find_nul(&self, a: usize, limit: usize) -> Option<usize> {
        let mut at = a;
        while at < limit {
            let r = self.rest(at);
            if r.is_empty() {
                return None;
            }
            let r = &r[..r.len().min(limit - at)];
            if let Some(i) = r.iter().position(|&c| c == 0) {
                return Some(at + i);
            }
            at += r.len();
        }
        None
    }

    /// The pieces covering logical `[a, b)`.
    fn sub(&self, a: usize, b: usize, out: &mut Vec<Piece>) {
        let mut at = a;
        while at < b {
            let Some(i) = self.locate(at) else { return };
            let p = self.pieces[i];
            let skip = at - self.starts[i];
            let n = (p.len - skip).min(b - at);
            out.push(Piece {
                src: p.src,
                off: p.off + skip,
                len: n,
            });
            at += n;
        }
    }

    /// Overwrites `bytes.len()` bytes at `a` (inside the buffer).
    fn write(&mut self, a: usize, bytes: &[u8]) -> Res<()> {
        let end = a + bytes.len();
        if end > self.total {
            return Err(OverlayError::Internal(a));
        }
        let own = Piece {
            src: Src::Own,
            off: self.own.len(),
            len: bytes.len(),
        };
        self.own.extend_from_slice(bytes);
        let mut np = Vec::with_capacity(self.pieces.len() + 2);
        self.sub(0, a, &mut np);
        np.push(own);
        self.sub(end, self.total, &mut np);
        self.set_pieces(np);
        Ok(())
    }

    fn write_u32(&mut self, a: usize, v: u32) -> Res<()> {
        self.write(a, &v.to_be_bytes())
    }

    fn hdr(&self, field: usize) -> usize {
        self.word(field).unwrap_or(0) as usize
    }

    fn set_hdr(&mut self, field: usize, v: usize) -> Res<()> {
        let v = u32::try_from(v).map_err(|_| OverlayError::TooLarge)?;
        self.write_u32(field, v)
    }

    fn word(&self, a: usize) -> Option<u32> {
        let r = self.rest(a);
        if r.len() >= 4 {
            return Some(u32::from_be_bytes([r[0], r[1], r[2], r[3]]));
        }
        let w = self.get(a, 4)?;
        Some(u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    }

    fn struct_start(&self) -> usize {
        self.hdr(H_OFF_STRUCT)
    }

    fn struct_end(&self) -> usize {
        self.hdr(H_OFF_STRUCT) + self.hdr(H_SIZE_STRUCT)
    }

    fn strings(&self) -> Cow<'_, [u8]> {
        self.get(self.hdr(H_OFF_STRINGS), self.hdr(H_SIZE_STRINGS))
            .unwrap_or_default()
    }

    fn data_size(&self) -> usize {
        self.hdr(H_OFF_STRINGS) + self.hdr(H_SIZE_STRINGS)
    }

    fn u32_at(&self, off: usize) -> Res<u32> {
        self.word(off).ok_or(OverlayError::Internal(off))
    }

    /// `fdt_next_tag`: the tag at `off` and the offset of the next one.
    fn next_tag(&self, off: usize) -> Res<(u32, usize)> {
        let end = self.struct_end();
        if off + 4 > end {
            return Err(OverlayError::Internal(off));
        }
        let tag = self.u32_at(off)?;
        let mut p = off + 4;
        match tag {
            FDT_BEGIN_NODE => {
                p = self.find_nul(p, end).ok_or(OverlayError::Internal(off))? + 1;
            }
            FDT_PROP => {
                let len = self.u32_at(p)? as usize;
                p = p
                    .checked_add(8 + len)
                    .filter(|&e| e <= end)
                    .ok_or(OverlayError::Internal(off))?;
            }
            FDT_END_NODE | FDT_NOP | FDT_END => {}
            _ => return Err(OverlayError::Internal(off)),
        }
        Ok((tag, align4(p)))
    }

    fn root(&self) -> usize {
        self.struct_start()
    }

    /// The name of the node at `node` (its `FDT_BEGIN_NODE` tag).
    fn name(&self, node: usize) -> Cow<'_, [u8]> {
        self.cstr_at(node + 4, self.struct_end())
            .unwrap_or_default()
    }

    /// `fdt_check_node_offset_`: where the node's properties start.
    fn body(&self, node: usize) -> Res<usize> {
        match self.next_tag(node)? {
            (FDT_BEGIN_NODE, next) => Ok(next),
            _ => Err(OverlayError::Internal(node)),
        }
    }

    /// The properties libfdt sees (`fdt_first_property_offset`/`fdt_next_property_offset`:
    /// those before the first child, NOPs skipped), as `(offset, name, data offset, len)`.
    fn props(&self, node: usize) -> Res<Vec<PropRef<'_>>> {
        let mut out = Vec::new();
        let mut off = self.body(node)?;
        loop {
            let (tag, next) = self.next_tag(off)?;
            match tag {
                FDT_PROP => {
                    let len = self.u32_at(off + 4)? as usize;
                    let name = self.prop_name(off)?;
                    out.push((off, name, off + 12, len));
                }
                FDT_NOP => {}
                _ => return Ok(out),
            }
            off = next;
        }
    }

    /// `fdt_get_string` of a property's name.
    fn prop_name(&self, prop: usize) -> Res<Cow<'_, [u8]>> {
        let nameoff = self.u32_at(prop + 8)? as usize;
        let s = self.hdr(H_OFF_STRINGS);
        let end = s + self.hdr(H_SIZE_STRINGS);
        self.cstr_at(s + nameoff, end)
            .ok_or(OverlayError::Internal(prop))
    }

    /// `fdt_getprop`: the first property called `name`, as `(offset, data offset, len)`.
    fn get_prop(&self, node: usize, name: &[u8]) -> Res<Option<(usize, usize, usize)>> {
        let mut off = self.body(node)?;
        loop {
            let (tag, next) = self.next_tag(off)?;
            match tag {
                FDT_PROP => {
                    if *self.prop_name(off)? == *name {
                        let len = self.u32_at(off + 4)? as usize;
                        return Ok(Some((off, off + 12, len)));
                    }
                }
                FDT_NOP => {}
                _ => return Ok(None),
            }
            off = next;
        }
    }

    fn value(&self, data: usize, len: usize) -> Cow<'_, [u8]> {
        self.get(data, len).unwrap_or_default()
    }

    /// The children of `node` in order (`fdt_for_each_subnode`).
    fn children(&self, node: usize) -> Res<Vec<usize>> {
        let mut out = Vec::new();
        self.find_child(node, |off| {
            out.push(off);
            false
        })?;
        Ok(out)
    }

    /// `fdt_subnode_offset_namelen`: the first child whose name is `name`, or
    /// `name@...` when `name` has no unit address (`fdt_nodename_eq_`).
    fn subnode(&self, node: usize, name: &[u8]) -> Res<Option<usize>> {
        self.find_child(node, |off| nodename_eq(&self.name(off), name))
    }

    /// Walks the direct children of `node` in order and returns the first for which
    /// `pick` says yes (`fdt_for_each_subnode` with an early exit).
    fn find_child(&self, node: usize, mut pick: impl FnMut(usize) -> bool) -> Res<Option<usize>> {
        let mut off = self.body(node)?;
        let mut depth = 0usize;
        loop {
            let (tag, next) = self.next_tag(off)?;
            match tag {
                FDT_BEGIN_NODE => {
                    if depth == 0 && pick(off) {
                        return Ok(Some(off));
                    }
                    depth += 1;
                }
                FDT_END_NODE => {
                    if depth == 0 {
                        return Ok(None);
                    }
                    depth -= 1;
                }
                FDT_END => return Err(OverlayError::Internal(off)),
                _ => {}
            }
            off = next;
        }
    }

    /// `fdt_path_offset_namelen`: a path, or an alias (from `/aliases`) followed by a
    /// path. `None` where libfdt returns an error.
    fn path_offset(&self, path: &[u8], depth: u32) -> Res<Option<usize>> {
        let mut offset = self.root();
        let mut p = 0usize;
        if path.first() != Some(&b'/') {
            if depth >= MAX_ALIAS_DEPTH {
                return Ok(None);
            }
            let q = path.iter().position(|&c| c == b'/').unwrap_or(path.len());
            let Some(aliases) = self.path_offset(b"/aliases", depth + 1)? else {
                return Ok(None);
            };
            let Some((_, data, len)) = self.get_prop(aliases, &path[..q])? else {
                return Ok(None);
            };
            let value = cstr(&self.value(data, len)).to_vec();
            match self.path_offset(&value, depth + 1)? {
                Some(o) => offset = o,
                None => return Ok(None),
            }
            p = q;
        }
        while p < path.len() {
            while path[p] == b'/' {
                p += 1;
                if p == path.len() {
                    return Ok(Some(offset));
                }
            }
            let q = path[p..]
                .iter()
                .position(|&c| c == b'/')
                .map_or(path.len(), |i| p + i);
            match self.subnode(offset, &path[p..q])? {
                Some(o) => offset = o,
                None => return Ok(None),
            }
            p = q;
        }
        Ok(Some(offset))
    }

    /// `fdt_get_phandle`: the first `phandle` if one cell, else the first
    /// `linux,phandle` if one cell, else 0.
    fn get_phandle(&self, node: usize) -> Res<u32> {
        for name in [&b"phandle"[..], b"linux,phandle"] {
            if let Some((_, data, 4)) = self.get_prop(node, name)? {
                return self.u32_at(data);
            }
        }
        Ok(0)
    }

    /// Every node in document order with its phandle as [`Buf::get_phandle`] reads it,
    /// in one pass over the structure block; `visit` returns `true` to stop. The one
    /// walk over the whole tree an overlay needs (`fdt_find_max_phandle`), so it reads
    /// the block directly.
    fn scan_phandles(&self, mut visit: impl FnMut(usize, u32) -> bool) -> Res<()> {
        let strings = self.strings();
        let s: &[u8] = &strings;
        let base = self.struct_start();
        let end = self.struct_end();
        let is = |nameoff: usize, name: &[u8]| {
            s.get(nameoff..nameoff + name.len() + 1)
                .is_some_and(|n| n[..name.len()] == *name && n[name.len()] == 0)
        };
        // The node whose leading properties are being read, and its two phandles
        // (first of each name; `Some(None)`: present but not one cell).
        let mut cur: Option<usize> = None;
        let mut ph: Option<Option<u32>> = None;
        let mut lph: Option<Option<u32>> = None;
        let mut off = base;
        let bad = OverlayError::Internal;
        loop {
            if off + 4 > end {
                return Err(bad(off));
            }
            // Most of the block sits in one piece: read it as a slice while it lasts.
            let r = self.rest(off);
            let word = |at: usize| -> Option<u32> {
                match r.get(at - off..at - off + 4) {
                    Some(w) => Some(u32::from_be_bytes([w[0], w[1], w[2], w[3]])),
                    None if at + 4 <= end => self.word(at),
                    None => None,
                }
            };
            let tag = word(off).ok_or(bad(off))?;
            let mut next = off + 4;
            match tag {
                FDT_BEGIN_NODE | FDT_END_NODE | FDT_END => {
                    if let Some(n) = cur.take() {
                        let v = match (ph, lph) {
                            (Some(Some(v)), _) | (_, Some(Some(v))) => v,
                            _ => 0,
                        };
                        if visit(n, v) {
                            return Ok(());
                        }
                    }
                    ph = None;
                    lph = None;
                    match tag {
                        FDT_BEGIN_NODE => {
                            cur = Some(off);
                            let name = r.get(4..).unwrap_or_default();
                            next = match name.iter().position(|&c| c == 0) {
                                Some(i) => next + i + 1,
                                None => self.find_nul(next, end).ok_or(bad(off))? + 1,
                            };
                        }
                        FDT_END => return Ok(()),
                        _ => {}
                    }
                }
                FDT_PROP => {
                    let len = word(next).ok_or(bad(off))? as usize;
                    let nameoff = word(next + 4).ok_or(bad(off))? as usize;
                    if cur.is_some() && (ph.is_none() || lph.is_none()) {
                        let value = if len == 4 { word(next + 8) } else { None };
                        if ph.is_none() && is(nameoff, b"phandle") {
                            ph = Some(value);
                        } else if lph.is_none() && is(nameoff, b"linux,phandle") {
                            lph = Some(value);
                        }
                    }
                    next += 8 + len;
                    if next > end {
                        return Err(bad(off));
                    }
                }
                FDT_NOP => {}
                _ => return Err(bad(off)),
            }
            // Properties after a child are not the node's for libfdt.
            if tag == FDT_END_NODE {
                cur = None;
            }
            off = align4(next);
        }
    }

    /// `fdt_find_max_phandle`.
    fn max_phandle(&self) -> Res<u32> {
        let mut max = 0u32;
        self.scan_phandles(|_, p| {
            max = max.max(p);
            false
        })?;
        Ok(max)
    }

    /// `fdt_node_offset_by_phandle`: the first node with this phandle.
    fn node_by_phandle(&self, phandle: u32) -> Res<Option<usize>> {
        if phandle == 0 || phandle == u32::MAX {
            return Ok(None);
        }
        let mut found = None;
        self.scan_phandles(|n, p| {
            if p == phandle {
                found = Some(n);
            }
            found.is_some()
        })?;
        Ok(found)
    }

    /// The full path of `node` (`fdt_get_path`), found by walking from the root.
    fn path_of(&self, node: usize) -> Res<String> {
        let mut stack: Vec<usize> = Vec::new();
        let mut off = self.root();
        loop {
            let (tag, next) = self.next_tag(off)?;
            match tag {
                FDT_BEGIN_NODE => {
                    stack.push(off);
                    if off == node {
                        break;
                    }
                }
                FDT_END_NODE => {
                    stack.pop();
                }
                FDT_END => return Err(OverlayError::Internal(node)),
                _ => {}
            }
            off = next;
        }
        if stack.len() <= 1 {
            return Ok("/".into());
        }
        let mut path = String::new();
        for &n in &stack[1..] {
            path.push('/');
            path.push_str(&String::from_utf8_lossy(&self.name(n)));
        }
        Ok(path)
    }

    // ---- fdt_rw.c ------------------------------------------------------------------

    /// `fdt_splice_`: replaces `oldlen` bytes at `p` by a gap of `newlen`, moving the
    /// rest of the data; the gap keeps whatever the buffer held there.
    fn splice(&mut self, p: usize, oldlen: usize, newlen: usize) -> Res<()> {
        let dsize = self.data_size();
        if p + oldlen > dsize {
            return Err(OverlayError::Internal(p));
        }
        let new_dsize = dsize - oldlen + newlen;
        if new_dsize > u32::MAX as usize {
            return Err(OverlayError::TooLarge);
        }
        // memmove(p + newlen, p + oldlen, dsize - p - oldlen): the bytes before
        // p + newlen stay (those past the old end of the buffer read as zero, as a
        // fresh allocation), the rest of the data follows, and whatever lay past the
        // new end of the data stays where it was.
        let total = self.total;
        let mut np = Vec::with_capacity(self.pieces.len() + 4);
        self.sub(0, (p + newlen).min(total), &mut np);
        if p + newlen > total {
            let zeros = p + newlen - total;
            np.push(Piece {
                src: Src::Own,
                off: self.own.len(),
                len: zeros,
            });
            self.own.resize(self.own.len() + zeros, 0);
        }
        self.sub(p + oldlen, dsize, &mut np);
        if new_dsize < total {
            self.sub(new_dsize, total, &mut np);
        }
        self.set_pieces(np);
        Ok(())
    }

    /// `fdt_splice_struct_`.
    fn splice_struct(&mut self, p: usize, oldlen: usize, newlen: usize) -> Res<()> {
        self.splice(p, oldlen, newlen)?;
        let size = (self.hdr(H_SIZE_STRUCT) + newlen) - oldlen;
        let strings = (self.hdr(H_OFF_STRINGS) + newlen) - oldlen;
        self.set_hdr(H_SIZE_STRUCT, size)?;
        self.set_hdr(H_OFF_STRINGS, strings)
    }

    /// `fdt_find_add_string_`: the offset of `name` in the strings block (any
    /// occurrence, also a tail), appending it if absent.
    fn find_add_string(&mut self, name: &[u8]) -> Res<usize> {
        if let Some(p) = crate::fdt::writer::find_cstr(&self.strings(), name) {
            return Ok(p);
        }
        let size = self.hdr(H_SIZE_STRINGS);
        let at = self.hdr(H_OFF_STRINGS) + size;
        self.splice(at, 0, name.len() + 1)?;
        self.set_hdr(H_SIZE_STRINGS, size + name.len() + 1)?;
        let mut z = name.to_vec();
        z.push(0);
        self.write(at, &z)?;
        Ok(size)
    }

    /// `fdt_setprop_placeholder`: makes room for a `len`-byte value of `name` on
    /// `node` (resizing the first property of that name, or adding one before the
    /// node's properties) and returns where the value goes.
    fn setprop_placeholder(&mut self, node: usize, name: &[u8], len: usize) -> Res<usize> {
        if let Some((prop, data, oldlen)) = self.get_prop(node, name)? {
            self.splice_struct(data, align4(oldlen), align4(len))?;
            let l = u32::try_from(len).map_err(|_| OverlayError::TooLarge)?;
            self.write_u32(prop + 4, l)?;
            return Ok(data);
        }
        let at = self.body(node)?;
        let nameoff = self.find_add_string(name)?;
        self.splice_struct(at, 0, 12 + align4(len))?;
        let l = u32::try_from(len).map_err(|_| OverlayError::TooLarge)?;
        let n = u32::try_from(nameoff).map_err(|_| OverlayError::TooLarge)?;
        let mut head = [0u8; 12];
        head[..4].copy_from_slice(&FDT_PROP.to_be_bytes());
        head[4..8].copy_from_slice(&l.to_be_bytes());
        head[8..].copy_from_slice(&n.to_be_bytes());
        self.write(at, &head)?;
        Ok(at + 12)
    }

    /// `fdt_setprop`.
    fn setprop(&mut self, node: usize, name: &[u8], value: &[u8]) -> Res<()> {
        let data = self.setprop_placeholder(node, name, value.len())?;
        self.write(data, value)
    }

    /// `fdt_add_subnode`, or the existing child `fdt_subnode_offset` finds.
    fn add_or_find_subnode(&mut self, parent: usize, name: &[u8]) -> Res<usize> {
        if let Some(existing) = self.subnode(parent, name)? {
            return Ok(existing);
        }
        // After the parent's properties and NOPs.
        let mut at = self.body(parent)?;
        loop {
            let (tag, next) = self.next_tag(at)?;
            if tag != FDT_PROP && tag != FDT_NOP {
                break;
            }
            at = next;
        }
        let namelen = align4(name.len() + 1);
        let nodelen = 4 + namelen + 4;
        self.splice_struct(at, 0, nodelen)?;
        let mut bytes = vec![0u8; nodelen];
        bytes[..4].copy_from_slice(&FDT_BEGIN_NODE.to_be_bytes());
        bytes[4..4 + name.len()].copy_from_slice(name);
        bytes[4 + namelen..].copy_from_slice(&FDT_END_NODE.to_be_bytes());
        self.write(at, &bytes)?;
        Ok(at)
    }

    /// `fdt_num_mem_rsv`, as the size of the map with its terminator.
    fn rsvmap_size(&self) -> Res<usize> {
        let start = self.hdr(H_OFF_RSVMAP);
        let mut n = 0usize;
        loop {
            let at = start + n * 16;
            match (self.word(at + 8), self.word(at + 12)) {
                (Some(0), Some(0)) => return Ok((n + 1) * 16),
                (Some(_), Some(_)) => n += 1,
                _ => return Err(OverlayError::Internal(at)),
            }
        }
    }

    /// `fdt_pack`, as the pieces of the result: the header, then the reservation
    /// map, structure and strings blocks moved together after it (libfdt's three
    /// `memmove`s, which in a blob whose blocks are in order amount to this),
    /// `totalsize` the end of the strings block.
    fn pack(&self) -> Res<([u8; HEADER_SIZE], Vec<Piece>)> {
        let rsv = self.rsvmap_size()?;
        let (rsv_at, st_at, str_at) = (
            self.hdr(H_OFF_RSVMAP),
            self.hdr(H_OFF_STRUCT),
            self.hdr(H_OFF_STRINGS),
        );
        let st_size = self.hdr(H_SIZE_STRUCT);
        let str_size = self.hdr(H_SIZE_STRINGS);
        if rsv_at < HEADER_SIZE || st_at < rsv_at + rsv || str_at < st_at + st_size {
            return Err(OverlayError::Internal(rsv_at));
        }
        let st_off = HEADER_SIZE + rsv;
        let str_off = st_off + st_size;
        let total = str_off + str_size;
        let mut header = [0u8; HEADER_SIZE];
        let fields = [
            (H_MAGIC, self.hdr(H_MAGIC)),
            (H_TOTALSIZE, total),
            (H_OFF_STRUCT, st_off),
            (H_OFF_STRINGS, str_off),
            (H_OFF_RSVMAP, HEADER_SIZE),
            (H_VERSION, self.hdr(H_VERSION)),
            (H_LAST_COMP, self.hdr(H_LAST_COMP)),
            (H_BOOT_CPU, self.hdr(H_BOOT_CPU)),
            (H_SIZE_STRINGS, str_size),
            (H_SIZE_STRUCT, st_size),
        ];
        for (at, v) in fields {
            let v = u32::try_from(v).map_err(|_| OverlayError::TooLarge)?;
            header[at..at + 4].copy_from_slice(&v.to_be_bytes());
        }
        let mut pieces = Vec::new();
        self.sub(rsv_at, rsv_at + rsv, &mut pieces);
        self.sub(st_at, st_at + st_size, &mut pieces);
        self.sub(str_at, str_at + str_size, &mut pieces);
        let body = pieces.iter().map(|p| p.len).sum::<usize>();
        if body + HEADER_SIZE != total {
            return Err(OverlayError::Internal(total));
        }
        Ok((header, pieces))
    }
}

/// `fdt_nodename_eq_`.
fn nodename_eq(node: &[u8], name: &[u8]) -> bool {
    node.len() >= name.len()
        && node[..name.len()] == *name
        && (node.len() == name.len() || (!name.contains(&b'@') && node[name.len()] == b'@'))
}

/// A value up to its first NUL, as C string functions read it.
fn cstr(v: &[u8]) -> &[u8] {
    &v[..v.iter().position(|&c| c == 0).unwrap_or(v.len())]
}

fn lossy(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// `fdt_open_into` of a validated blob: the same bytes when its blocks are in libfdt's
/// order, else the blocks packed after the header (`fdt_packblocks_`); version 17 and
/// `size_dt_struct` set either way.
fn open_into<'a>(fdt: &Fdt<'a>, what: &str) -> Res<Buf<'a>> {
    let blob = fdt.blob();
    let h = fdt.header();
    if h.version < 16 {
        return Err(OverlayError::Version {
            what: what.into(),
            version: h.version,
        });
    }
    let rsv = fdt.rsvmap_range();
    let rsv_size = rsv.len();
    // v16 has no size_dt_struct: libfdt walks to FDT_END.
    let st = fdt.struct_range().start;
    let st_size = fdt.struct_used_range().end - st;
    let strings = fdt.strings_range();
    let total = blob.len();
    let misordered = (h.off_mem_rsvmap as usize) < HEADER_SIZE
        || (h.off_dt_struct as usize) < rsv.start + rsv_size
        || strings.start < st + st_size
        || total < strings.end;
    let mut buf = if misordered {
        let newsize = HEADER_SIZE + rsv_size + st_size + strings.len();
        let mut b = vec![0u8; newsize];
        let mut at = HEADER_SIZE;
        for r in [rsv.start..rsv.end, st..st + st_size, strings.clone()] {
            b[at..at + r.len()].copy_from_slice(&blob[r.clone()]);
            at += r.len();
        }
        let mut buf = Buf::owned(b);
        buf.set_hdr(H_OFF_RSVMAP, HEADER_SIZE)?;
        buf.set_hdr(H_OFF_STRUCT, HEADER_SIZE + rsv_size)?;
        buf.set_hdr(H_OFF_STRINGS, HEADER_SIZE + rsv_size + st_size)?;
        buf.set_hdr(H_SIZE_STRINGS, strings.len())?;
        buf.set_hdr(H_MAGIC, crate::fdt::FDT_MAGIC as usize)?;
        buf.set_hdr(H_LAST_COMP, 16)?;
        buf.set_hdr(H_BOOT_CPU, h.boot_cpuid_phys.unwrap_or(0) as usize)?;
        buf
    } else {
        Buf::borrowed(blob)
    };
    buf.set_hdr(H_VERSION, 17)?;
    buf.set_hdr(H_SIZE_STRUCT, st_size)?;
    let len = buf.total;
    buf.set_hdr(H_TOTALSIZE, len)?;
    Ok(buf)
}

/// The result of [`apply_all`]: the packed blob as the pieces it is made of (most of
/// them borrowed from the base), to be written out or collected.
#[derive(Debug)]
pub struct Applied<'a> {
    buf: Buf<'a>,
    header: [u8; HEADER_SIZE],
    pieces: Vec<Piece>,
}

impl Applied<'_> {
    /// The blob's size (its `totalsize`).
    #[must_use]
    pub fn len(&self) -> usize {
        HEADER_SIZE + self.pieces.iter().map(|p| p.len).sum::<usize>()
    }

    /// Never true: a blob has at least its header.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The blob's bytes in order, as runs.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        core::iter::once(&self.header[..]).chain(self.pieces.iter().map(|p| self.buf.bytes_of(p)))
    }

    /// The blob's bytes.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for c in self.chunks() {
            out.extend_from_slice(c);
        }
        out
    }
}

/// [`apply`] without collecting the result: the packed blob as pieces, most of them
/// borrowed from `base`, so a large tree is copied once, when it is written.
///
/// # Errors
/// As [`apply`].
pub fn apply_all<'a>(base: &'a [u8], overlays: &[&[u8]]) -> Result<Applied<'a>, OverlayError> {
    let fdt = Fdt::new(base).map_err(OverlayError::Base)?;
    let mut ovs = Vec::with_capacity(overlays.len());
    for (i, o) in overlays.iter().enumerate() {
        let f = Fdt::new(o).map_err(|source| OverlayError::Blob { overlay: i, source })?;
        if f.header().version < 16 {
            return Err(OverlayError::Version {
                what: format!("overlay {i}"),
                version: f.header().version,
            });
        }
        ovs.push(f);
    }
    let mut buf = open_into(&fdt, "base tree")?;
    for (i, o) in ovs.iter().enumerate() {
        // fdtoverlay applies a copy of the overlay (apply_one's tmpo), which
        // fdt_overlay_apply edits in place: written bytes go to the copy's own pieces.
        let mut fdto = Buf::borrowed(o.blob());
        // `fdt_open_into` of the previous result changes nothing: it is in order and
        // version 17 already, and the buffer keeps the bytes past its data.
        apply_one(&mut buf, &mut fdto, i)?;
    }
    let (header, pieces) = buf.pack()?;
    Ok(Applied {
        buf,
        header,
        pieces,
    })
}

/// Applies `overlays` to `base` in order, as `fdtoverlay -i BASE -o OUT OVERLAY...`
/// does, and returns the packed result (see the module docs).
///
/// ```
/// use ppcpv::fdt::compile::{compile, CompileOptions, NoFiles};
/// use ppcpv::fdt::{overlay, Fdt};
///
/// let base = compile(b"/dts-v1/; / { uart: serial { status = \"okay\"; }; };", "base.dts",
///                    &CompileOptions::new().symbols(true), &mut NoFiles)?;
/// let ov = compile(b"/dts-v1/; /plugin/; &uart { status = \"disabled\"; };", "ov.dts",
///                  &CompileOptions::new().symbols(true), &mut NoFiles)?;
/// let out = overlay::apply(&base, &[&ov[..]])?;
/// let fdt = Fdt::new(&out)?;
/// assert_eq!(fdt.find("/serial").unwrap().property("status").unwrap().value, b"disabled\0");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`OverlayError`]: a malformed blob, or an overlay that does not fit the tree it is
/// applied to (whatever `fdtoverlay` fails on), naming the fragment, target, label or
/// fix-up.
pub fn apply(base: &[u8], overlays: &[&[u8]]) -> Result<Vec<u8>, OverlayError> {
    Ok(apply_all(base, overlays)?.to_vec())
}

/// The labels `__fixups__` resolved, by fixed-up place (`path`, property, offset).
type Resolved = Vec<(Vec<u8>, Vec<u8>, usize, String)>;

/// `fdt_overlay_apply`.
fn apply_one(fdt: &mut Buf, fdto: &mut Buf, ov: usize) -> Res<()> {
    // The base's largest phandle takes a walk over the whole base; it is only used to
    // renumber the overlay's own phandles and the references to them, so an overlay
    // with neither (the /hypervisor overlay, most `target-path` overlays) skips it.
    let delta = if needs_renumbering(fdto)? {
        fdt.max_phandle()?
    } else {
        0
    };
    adjust_local_phandles(fdto, delta, ov)?;
    update_local_references(fdto, delta, ov)?;
    let resolved = fixup_phandles(fdt, fdto, ov)?;
    merge(fdt, fdto, ov, &resolved)?;
    symbol_update(fdt, fdto, ov, &resolved)
}

/// Whether the overlay has a `phandle` or `linux,phandle` property anywhere or a
/// `/__local_fixups__` node: what [`adjust_local_phandles`] and
/// [`update_local_references`] act on.
fn needs_renumbering(fdto: &Buf) -> Res<bool> {
    if fdto.path_offset(b"/__local_fixups__", 0)?.is_some() {
        return Ok(true);
    }
    let mut found = false;
    let s = fdto.strings();
    let named = |nameoff: usize, name: &[u8]| {
        s.get(nameoff..nameoff + name.len() + 1)
            .is_some_and(|n| n[..name.len()] == *name && n[name.len()] == 0)
    };
    let mut off = fdto.root();
    loop {
        let (tag, next) = fdto.next_tag(off)?;
        match tag {
            FDT_PROP => {
                let nameoff = fdto.u32_at(off + 8)? as usize;
                found |= named(nameoff, b"phandle") || named(nameoff, b"linux,phandle");
            }
            FDT_END => return Ok(found),
            _ => {}
        }
        off = next;
    }
}

/// `overlay_adjust_local_phandles`: every `phandle` and `linux,phandle` of the
/// overlay plus `delta`.
fn adjust_local_phandles(fdto: &mut Buf, delta: u32, ov: usize) -> Res<()> {
    let mut stack = vec![fdto.root()];
    while let Some(node) = stack.pop() {
        for name in [&b"phandle"[..], b"linux,phandle"] {
            let Some((_, data, len)) = fdto.get_prop(node, name)? else {
                continue;
            };
            let err = |why: String| OverlayError::Phandle {
                overlay: ov,
                node: fdto.path_of(node).unwrap_or_default(),
                why,
            };
            if len != 4 {
                return Err(err(format!("{} is {len} bytes, not one cell", lossy(name))));
            }
            let v = fdto.u32_at(data)?;
            let adj = v.checked_add(delta).filter(|&a| a != u32::MAX).ok_or_else(|| {
                err(format!(
                    "{} {v:#x} cannot be renumbered above the base's largest phandle {delta:#x} \
                     (it would exceed 0xfffffffe)",
                    lossy(name)
                ))
            })?;
            fdto.write_u32(data, adj)?;
        }
        let mut kids = fdto.children(node)?;
        kids.reverse();
        stack.extend(kids);
    }
    Ok(())
}

/// `overlay_update_local_references`: the cells `__local_fixups__` lists, plus `delta`.
fn update_local_references(fdto: &mut Buf, delta: u32, ov: usize) -> Res<()> {
    let Some(fixups) = fdto.path_offset(b"/__local_fixups__", 0)? else {
        return Ok(());
    };
    let mut stack = vec![(fdto.root(), fixups)];
    while let Some((tree, fixup)) = stack.pop() {
        let err = |fdto: &Buf, why: String| OverlayError::Fixup {
            overlay: ov,
            node: fdto.path_of(fixup).unwrap_or_default(),
            why,
        };
        let props: Vec<(Vec<u8>, Vec<u8>)> = fdto
            .props(fixup)?
            .into_iter()
            .map(|(_, name, data, len)| (name.to_vec(), fdto.value(data, len).to_vec()))
            .collect();
        for (name, offsets) in props {
            if offsets.len() % 4 != 0 {
                return Err(err(
                    fdto,
                    format!(
                        "property {:?} is {} bytes, not a list of cells",
                        lossy(&name),
                        offsets.len()
                    ),
                ));
            }
            let Some((_, data, len)) = fdto.get_prop(tree, &name)? else {
                return Err(err(
                    fdto,
                    format!(
                        "lists property {:?}, which {} does not have",
                        lossy(&name),
                        fdto.path_of(tree)?
                    ),
                ));
            };
            for c in offsets.chunks_exact(4) {
                let at = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize;
                if at.saturating_add(4) > len {
                    return Err(err(
                        fdto,
                        format!(
                            "offset {at} of property {:?} is beyond its {len} bytes",
                            lossy(&name)
                        ),
                    ));
                }
                let v = fdto.u32_at(data + at)?;
                fdto.write_u32(data + at, v.wrapping_add(delta))?;
            }
        }
        let mut pairs = Vec::new();
        for child in fdto.children(fixup)? {
            let name = fdto.name(child).to_vec();
            let Some(t) = fdto.subnode(tree, &name)? else {
                return Err(err(
                    fdto,
                    format!(
                        "lists node {:?}, which {} does not have",
                        lossy(&name),
                        fdto.path_of(tree)?
                    ),
                ));
            };
            pairs.push((t, child));
        }
        pairs.reverse();
        stack.extend(pairs);
    }
    Ok(())
}

/// One `__fixups__` entry, `path:property:offset`, parsed as
/// `overlay_fixup_phandle` parses it.
fn parse_fixup(entry: &[u8]) -> Result<(&[u8], &[u8], usize), &'static str> {
    let sep = entry
        .iter()
        .position(|&c| c == b':')
        .ok_or("no ':' after the path")?;
    if sep + 1 == entry.len() {
        return Err("nothing after the path");
    }
    let (path, rest) = (&entry[..sep], &entry[sep + 1..]);
    let sep = rest
        .iter()
        .position(|&c| c == b':')
        .ok_or("no ':' after the property name")?;
    if sep == 0 {
        return Err("empty property name");
    }
    let (name, index) = (&rest[..sep], &rest[sep + 1..]);
    // strtoul(..., 10) consuming everything: leading blanks and '+' allowed.
    let digits = index
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .map_or(&index[index.len()..], |i| &index[i..]);
    let digits = digits.strip_prefix(b"+").unwrap_or(digits);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err("the offset is not a decimal number");
    }
    let index = core::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .ok_or("the offset is out of range")?;
    Ok((path, name, index as usize))
}

/// `overlay_fixup_phandles`: each `__fixups__` label looked up in the base's
/// `__symbols__` and its phandle written where the entries say.
fn fixup_phandles(fdt: &Buf, fdto: &mut Buf, ov: usize) -> Res<Resolved> {
    let mut resolved = Resolved::new();
    let Some(fixups) = fdto.path_offset(b"/__fixups__", 0)? else {
        return Ok(resolved);
    };
    let entries: Vec<(Vec<u8>, Vec<u8>)> = fdto
        .props(fixups)?
        .into_iter()
        .map(|(_, name, data, len)| (name.to_vec(), fdto.value(data, len).to_vec()))
        .collect();
    if entries.is_empty() {
        return Ok(resolved);
    }
    let Some(symbols) = fdt.path_offset(b"/__symbols__", 0)? else {
        return Err(OverlayError::NoBaseSymbols {
            overlay: ov,
            label: lossy(&entries[0].0),
        });
    };
    for (label, value) in entries {
        let label_s = lossy(&label);
        let mut rest: &[u8] = &value;
        loop {
            let Some(nul) = rest.iter().position(|&c| c == 0) else {
                return Err(OverlayError::Fixup {
                    overlay: ov,
                    node: format!("/__fixups__:{label_s}"),
                    why: "an entry is not NUL-terminated".into(),
                });
            };
            let entry = &rest[..nul];
            rest = &rest[nul + 1..];
            let fixup = lossy(entry);
            let (path, name, index) = parse_fixup(entry).map_err(|why| OverlayError::Fixup {
                overlay: ov,
                node: format!("/__fixups__:{label_s}"),
                why: format!("entry {fixup:?}: {why} (expected path:property:offset)"),
            })?;
            let label_err = |why: String| OverlayError::Label {
                overlay: ov,
                label: label_s.clone(),
                fixup: fixup.clone(),
                why,
            };
            let Some((_, sdata, slen)) = fdt.get_prop(symbols, &label)? else {
                return Err(label_err(
                    "the base's /__symbols__ has no such label (is the labelled node in the \
                     base, and was it compiled with -@?)"
                        .into(),
                ));
            };
            let spath = cstr(&fdt.value(sdata, slen)).to_vec();
            let Some(target) = fdt.path_offset(&spath, 0)? else {
                return Err(label_err(format!(
                    "the base's /__symbols__ says {:?}, which is not in the base tree",
                    lossy(&spath)
                )));
            };
            let phandle = fdt.get_phandle(target)?;
            if phandle == 0 {
                return Err(label_err(format!(
                    "{} has no phandle in the base tree",
                    lossy(&spath)
                )));
            }
            let Some(node) = fdto.path_offset(path, 0)? else {
                return Err(label_err(format!(
                    "the overlay has no node {:?}",
                    lossy(path)
                )));
            };
            let Some((_, data, len)) = fdto.get_prop(node, name)? else {
                return Err(label_err(format!(
                    "{} has no property {:?}",
                    lossy(path),
                    lossy(name)
                )));
            };
            if index.saturating_add(4) > len {
                return Err(label_err(format!(
                    "offset {index} is beyond the {len} bytes of {}:{}",
                    lossy(path),
                    lossy(name)
                )));
            }
            fdto.write_u32(data + index, phandle)?;
            resolved.push((path.to_vec(), name.to_vec(), index, label_s.clone()));
            if rest.is_empty() {
                break;
            }
        }
    }
    Ok(resolved)
}

/// `overlay_get_target` (`fdt_overlay_target_offset`): the target node and the
/// `target-path` string when that named it.
fn get_target(
    fdt: &Buf,
    fdto: &Buf,
    fragment: usize,
    ov: usize,
    resolved: &Resolved,
) -> Res<(usize, Option<Vec<u8>>)> {
    let fname = || fdto.path_of(fragment).unwrap_or_default();
    if let Some((_, data, len)) = fdto.get_prop(fragment, b"target")? {
        let v = if len == 4 { fdto.u32_at(data)? } else { 0 };
        if len != 4 || v == u32::MAX {
            return Err(OverlayError::BadTarget {
                overlay: ov,
                fragment: fname(),
                why: if len != 4 {
                    format!("`target` is {len} bytes, not one phandle cell")
                } else {
                    "`target` is still 0xffffffff: a label reference no __fixups__ entry \
                     resolved"
                        .into()
                },
            });
        }
        if v != 0 {
            return match fdt.node_by_phandle(v)? {
                Some(n) => Ok((n, None)),
                None => {
                    let fpath = fname();
                    let label = resolved
                        .iter()
                        .find(|(p, n, i, _)| *p == fpath.as_bytes() && n == b"target" && *i == 0)
                        .map(|r| r.3.clone());
                    Err(OverlayError::TargetNotFound {
                        overlay: ov,
                        fragment: fpath,
                        target: Target::Phandle { phandle: v, label },
                        why: "no node of the base tree has this phandle".into(),
                    })
                }
            };
        }
    }
    let Some((_, data, len)) = fdto.get_prop(fragment, b"target-path")? else {
        return Err(OverlayError::NoTarget {
            overlay: ov,
            fragment: fname(),
        });
    };
    let path = cstr(&fdto.value(data, len)).to_vec();
    match fdt.path_offset(&path, 0)? {
        Some(n) => Ok((n, Some(path))),
        None => {
            let why = if path.first() == Some(&b'/') {
                // Name the first missing component.
                let mut at = String::new();
                let mut cur = fdt.root();
                let mut missing = String::new();
                for comp in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
                    match fdt.subnode(cur, comp)? {
                        Some(n) => {
                            cur = n;
                            at.push('/');
                            at.push_str(&lossy(&fdt.name(n)));
                        }
                        None => {
                            missing = lossy(comp);
                            break;
                        }
                    }
                }
                if at.is_empty() {
                    at.push('/');
                }
                format!("the base tree has no node {missing:?} under {at}")
            } else {
                "not a path, and the base tree's /aliases has no such alias (or its \
                 value is not in the tree)"
                    .into()
            };
            Err(OverlayError::TargetNotFound {
                overlay: ov,
                fragment: fname(),
                target: Target::Path(lossy(&path)),
                why,
            })
        }
    }
}

/// `overlay_merge` and `overlay_apply_node`: each fragment's `__overlay__` node merged
/// into its target, properties set first, then children added or merged, depth first.
fn merge(fdt: &mut Buf, fdto: &Buf, ov: usize, resolved: &Resolved) -> Res<()> {
    for fragment in fdto.children(fdto.root())? {
        let Some(node) = fdto.subnode(fragment, b"__overlay__")? else {
            continue;
        };
        let (target, _) = get_target(fdt, fdto, fragment, ov, resolved)?;
        // (target in the base, overlay node, its remaining children reversed)
        let mut stack: Vec<(usize, Vec<usize>)> = Vec::new();
        let enter = |fdt: &mut Buf, target: usize, node: usize| -> Res<(usize, Vec<usize>)> {
            for (_, name, data, len) in fdto.props(node)? {
                fdt.setprop(target, &name, &fdto.value(data, len))?;
            }
            let mut kids = fdto.children(node)?;
            kids.reverse();
            Ok((target, kids))
        };
        stack.push(enter(fdt, target, node)?);
        while let Some((target, kids)) = stack.last_mut() {
            let Some(child) = kids.pop() else {
                stack.pop();
                continue;
            };
            let target = *target;
            let nnode = fdt.add_or_find_subnode(target, &fdto.name(child))?;
            let frame = enter(fdt, nnode, child)?;
            stack.push(frame);
        }
    }
    Ok(())
}

/// `overlay_symbol_update`: the overlay's `__symbols__` entries that point into an
/// `__overlay__` node, added to the base's `/__symbols__` (created first, as the
/// root's first child, when missing) with the path the node has in the base.
fn symbol_update(fdt: &mut Buf, fdto: &Buf, ov: usize, resolved: &Resolved) -> Res<()> {
    let Some(ov_sym) = fdto.subnode(fdto.root(), b"__symbols__")? else {
        return Ok(());
    };
    let root = fdt.root();
    let root_sym = fdt.add_or_find_subnode(root, b"__symbols__")?;
    for (_, name, data, len) in fdto.props(ov_sym)? {
        let path = fdto.value(data, len);
        let err = |why: String| OverlayError::Symbol {
            overlay: ov,
            label: lossy(&name),
            why,
        };
        if path.is_empty() || path.iter().position(|&c| c == 0) != Some(path.len() - 1) {
            return Err(err("the value is not one string".into()));
        }
        let p = &path[..path.len() - 1];
        if p.first() != Some(&b'/') {
            return Err(err(format!("{:?} is not a path", lossy(p))));
        }
        let Some(s) = p[1..].iter().position(|&c| c == b'/').map(|i| i + 1) else {
            // Refers to something that does not end up in the target tree.
            continue;
        };
        let frag_name = &p[1..s];
        let tail = &p[s..];
        let rel: &[u8] = if let Some(r) = tail.strip_prefix(b"/__overlay__/") {
            if r.is_empty() {
                continue;
            }
            r
        } else if tail == b"/__overlay__" {
            b""
        } else {
            continue;
        };
        let Some(fragment) = fdto.subnode(fdto.root(), frag_name)? else {
            return Err(err(format!(
                "{:?}: the overlay has no fragment {:?}",
                lossy(p),
                lossy(frag_name)
            )));
        };
        if fdto.subnode(fragment, b"__overlay__")?.is_none() {
            return Err(err(format!(
                "{:?}: fragment {:?} has no __overlay__ node",
                lossy(p),
                lossy(frag_name)
            )));
        }
        let (target, target_path) = get_target(fdt, fdto, fragment, ov, resolved)?;
        let prefix: Vec<u8> = match target_path {
            Some(tp) => tp,
            None => fdt.path_of(target)?.into_bytes(),
        };
        let plen = prefix.len();
        let total = plen + usize::from(plen > 1) + rel.len() + 1;
        let at = fdt.setprop_placeholder(root_sym, &name, total)?;
        let mut value = Vec::with_capacity(total);
        if plen > 1 {
            value.extend_from_slice(&prefix);
        }
        value.push(b'/');
        value.extend_from_slice(rel);
        value.push(0);
        fdt.write(at, &value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::compile::{CompileOptions, NoFiles, compile};

    fn dtb(src: &str, symbols: bool) -> Vec<u8> {
        compile(
            src.as_bytes(),
            "t.dts",
            &CompileOptions::new().symbols(symbols),
            &mut NoFiles,
        )
        .unwrap()
    }

    const BASE: &str = "/dts-v1/; / { #address-cells = <1>; #size-cells = <1>; \
        pic: pic@100 { interrupt-controller; #interrupt-cells = <2>; reg = <0x100 0x10>; }; \
        uart0: serial@200 { reg = <0x200 0x10>; interrupt-parent = <&pic>; status = \"okay\"; }; };";

    #[test]
    fn label_overlay_merges_and_updates_symbols() {
        let base = dtb(BASE, true);
        let ov = dtb(
            "/dts-v1/; /plugin/; &uart0 { status = \"disabled\"; extra = <&pic>; \
             child: sub { ref = <&child>; }; };",
            true,
        );
        let out = apply(&base, &[&ov]).unwrap();
        let fdt = Fdt::new(&out).unwrap();
        let uart = fdt.find("/serial@200").unwrap();
        assert_eq!(uart.property("status").unwrap().value, b"disabled\0");
        let pic = fdt.find("/pic@100").unwrap().property("phandle").unwrap();
        assert_eq!(uart.property("extra").unwrap().value, pic.value);
        // The overlay's own phandle is renumbered above the base's (2 phandles).
        let sub = fdt.find("/serial@200/sub").unwrap();
        assert_eq!(sub.property("phandle").unwrap().value, [0, 0, 0, 3]);
        assert_eq!(sub.property("ref").unwrap().value, [0, 0, 0, 3]);
        let syms = fdt.find("/__symbols__").unwrap();
        assert_eq!(syms.property("child").unwrap().value, b"/serial@200/sub\0");
        // New properties go first, in reverse order.
        assert_eq!(uart.properties().next().unwrap().name, "extra");
    }

    #[test]
    fn errors_name_the_fragment_and_target() {
        let base = dtb(BASE, false);
        let ov = dtb(
            "/dts-v1/; /plugin/; / { fragment@0 { target-path = \"/soc/missing\"; \
             __overlay__ { x = <1>; }; }; };",
            false,
        );
        let e = apply(&base, &[&ov]).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("fragment /fragment@0"), "{text}");
        assert!(text.contains("\"soc\" under /"), "{text}");
        let ov = dtb("/dts-v1/; /plugin/; &uart0 { x = <1>; };", true);
        let e = apply(&base, &[&ov]).unwrap_err();
        assert!(
            matches!(e, OverlayError::NoBaseSymbols { ref label, .. } if label == "uart0"),
            "{e}"
        );
    }

    #[test]
    fn mutated_overlays_never_panic() {
        let base = dtb(BASE, true);
        let ov = dtb(
            "/dts-v1/; /plugin/; &uart0 { status = \"disabled\"; extra = <&pic>; \
             child: sub { ref = <&child>; }; }; / { fragment@9 { target-path = \"/\"; \
             __overlay__ { n { v = [01 02 03]; }; }; }; };",
            true,
        );
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut ok, mut refused) = (0, 0);
        for _ in 0..3000 {
            let mut m = ov.clone();
            for _ in 0..1 + next() % 4 {
                let at = 40 + (next() as usize) % (m.len() - 40);
                m[at] = next() as u8;
            }
            let mut b = base.clone();
            if next() % 4 == 0 {
                let at = 40 + (next() as usize) % (b.len() - 40);
                b[at] = next() as u8;
            }
            match apply(&b, &[&m, &ov]) {
                Ok(out) => {
                    Fdt::new(&out).expect("a result that does not validate");
                    ok += 1;
                }
                Err(_) => refused += 1,
            }
        }
        assert!(ok > 100 && refused > 100, "{ok} applied, {refused} refused");
    }

    #[test]
    fn fixup_entries_parse_like_libfdt() {
        assert_eq!(
            parse_fixup(b"/fragment@0:target:0").unwrap(),
            (&b"/fragment@0"[..], &b"target"[..], 0)
        );
        assert!(parse_fixup(b"/a:b:").is_err());
        assert!(parse_fixup(b"/a::4").is_err());
        assert!(parse_fixup(b"/a:").is_err());
        assert!(parse_fixup(b"/a:b:-4").is_err());
        assert_eq!(parse_fixup(b"/a:b: +8").unwrap().2, 8);
    }

    #[test]
    fn nodename_matching_follows_libfdt() {
        assert!(nodename_eq(b"serial@200", b"serial"));
        assert!(nodename_eq(b"serial@200", b"serial@200"));
        assert!(!nodename_eq(b"serial@200", b"serial@2"));
        assert!(!nodename_eq(b"serialx", b"serial"));
    }
}
