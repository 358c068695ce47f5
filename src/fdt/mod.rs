//! The flattened device-tree (DTB) format alone: a validating reader, a writer built on
//! `vm-fdt`, and a DTS printer that matches `dtc -I dtb -O dts`. Nothing here knows
//! about PowerPC.

pub mod writer;
