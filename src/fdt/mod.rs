//! The flattened device-tree (DTB) format alone, in layers that read like libfdt's
//! (`dgibson/dtc: libfdt/`): a validating reader (`fdt_ro.c`), an in-place editor
//! (`fdt_rw.c`), a serializer that writes dtc's bytes (`flattree.c`), and a DTS
//! printer that matches `dtc -I dtb -O dts`. Nothing here knows about PowerPC.
//!
//! * [`Fdt`] ([`reader`]): validates a blob completely once, then hands out nodes,
//!   properties and reservations as zero-copy views with exact byte offsets.
//! * [`Header`] ([`header`]): the header words of every format version (1-3, 16, 17).
//! * [`edit::Editor`]: adds, replaces and deletes nodes and properties of a
//!   validated blob without re-serialising it.
//! * [`writer::FdtBuilder`]: builds a blob byte-identical to what dtc 1.6.1 writes,
//!   refusing trees dtc or Linux would reject; [`writer::DtbEmitter`] underneath it
//!   writes dtc's layout (every version dtc writes) without any checks.
//! * `dts` (feature `std`): DTS text, byte-identical to dtc 1.6.1, streamed to any
//!   `io::Write`.
//! * [`summary`]: header, reservations, counts, model, memory and CPUs at a glance.
//! * [`get`]: one value formatted as `fdtget` prints it, with its `-t` types.
//! * [`FdtError`] ([`error`]): why a blob was refused, with the byte offset.
//! * [`compile`]: DTS source to a blob, as dtc 1.6.1 compiles it.
//! * [`lint`]: the structural checks dtc treats as errors, with dtc's names and messages.
//! * [`overlay`]: overlays applied as `fdtoverlay` applies them, byte for byte.
//! * `diff` (feature `std`): two trees compared by path, phandles as the paths they
//!   point to.

pub mod compile;
#[cfg(feature = "std")]
pub mod diff;
#[cfg(feature = "std")]
pub mod dts;
pub mod edit;
pub mod error;
pub mod get;
pub mod header;
pub mod lint;
mod name_index;
pub mod overlay;
pub mod reader;
pub mod summary;
pub mod writer;

pub use error::FdtError;
pub use header::{FDT_MAGIC, Header};
pub use reader::{
    Children, Fdt, MAX_DEPTH, Node, Nodes, PathNodes, Properties, Property, Reservation,
};
