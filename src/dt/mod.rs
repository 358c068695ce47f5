//! PowerPC and ePAPR meaning of device-tree nodes: the `/hypervisor` node, complete
//! guest machines, and patching a `/hypervisor` node into an existing blob.

pub mod checks;
#[cfg(feature = "std")]
pub mod diff;
pub mod host;
pub mod hypervisor;
pub mod machine;
pub mod patch;
pub mod pvinfo;
