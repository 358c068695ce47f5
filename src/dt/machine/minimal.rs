//! The smallest useful guest tree: root, `/cpus`, `/memory@0`, `/chosen` and
//! `/hypervisor`. It describes no devices, so it suits unit tests, hypercall
//! experiments and VMMs that add their own nodes after patching.

use super::{
    GenError, GuestConfig, write_chosen, write_hypervisor, write_hypervisor_root_properties,
    write_memory,
};
use crate::fdt::writer::FdtBuilder;
use alloc::format;

/// Writes the whole tree.
pub(crate) fn write(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let root = w.begin_node("")?;
    w.property_string("model", "ppcpv minimal guest")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    write_hypervisor_root_properties(w, cfg)?;
    let cpus = w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    for i in 0..cfg.cpus {
        let cpu = w.begin_node(&format!("cpu@{i:x}"))?;
        w.property_string("device_type", "cpu")?;
        w.property_u32("reg", i)?;
        w.end_node(cpu)?;
    }
    w.end_node(cpus)?;
    write_memory(w, cfg)?;
    write_chosen(w, cfg)?;
    write_hypervisor(w, cfg)?;
    w.end_node(root)?;
    Ok(())
}
