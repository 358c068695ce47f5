//! The flattened device-tree (DTB) format alone: a validating reader, a writer built on
//! `vm-fdt`, and a DTS printer that matches `dtc -I dtb -O dts`. Nothing here knows
//! about PowerPC.
//!
//! * [`Fdt`] ([`reader`]): validates a blob completely once, then hands out nodes,
//!   properties and reservations as zero-copy views with exact byte offsets.
//! * [`Header`] ([`header`]): the header words of every format version (1-3, 16, 17).
//! * [`dts`]: DTS text, byte-identical to dtc 1.6.1, streamed to any `io::Write`.
//! * [`summary`]: header, reservations, counts, model, memory and CPUs at a glance.
//! * [`get`]: one value formatted as `fdtget` prints it, with its `-t` types.
//! * [`FdtError`] ([`error`]): why a blob was refused, with the byte offset.

pub mod dts;
pub mod error;
pub mod get;
pub mod header;
pub mod lint;
pub mod reader;
pub mod summary;
pub mod writer;

pub use error::FdtError;
pub use header::{FDT_MAGIC, Header};
pub use reader::{
    Children, Fdt, MAX_DEPTH, Node, Nodes, PathNodes, Properties, Property, Reservation,
};
