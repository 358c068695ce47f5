//! A minimal PAPR (`pseries`) guest tree.
//!
//! The layout and values of `qemu/qemu: hw/ppc/spapr.c (spapr_build_fdt,
//! spapr_dt_cpu, spapr_dt_chosen, spapr_dt_hypervisor)`, `hw/ppc/spapr_vio.c` and
//! `hw/intc/xics_spapr.c (xics_spapr_dt)` as QEMU 7.2 dumps them
//! (`corpus/dtb/qemu-pseries.dtb`), keeping only what ppcpv models: the root, POWER9
//! CPUs, one memory bank, `/chosen`, the XICS presentation controller, the VIO bus with
//! the `hvterm1` console, and `/hypervisor`. Left out: RTAS (its tokens belong to the
//! firmware that implements them), the PHB, DRC tables, NUMA associativity, event
//! sources, NVRAM and virtual network/SCSI devices.
//!
//! Unlike QEMU's tree, the XICS node carries `#address-cells = <0>`, which removes
//! dtc's `interrupt_provider` warning, and gets a single `phandle`.

use super::{
    GenError, GuestConfig, write_chosen, write_hypervisor, write_hypervisor_root_properties,
    write_memory,
};
use crate::fdt::writer::FdtBuilder;
use alloc::format;

/// Path of the VIO console (`spapr_vty`, reg 0x71000000).
pub const VTY_PATH: &str = "/vdevice/vty@71000000";
/// The VIO address of the first device (`SPAPR_VIO_REG_BASE`).
pub const VIO_REG_BASE: u32 = 0x7100_0000;
/// The console's interrupt source (`SPAPR_IRQ_VIO` = 0x1100).
pub const VTY_IRQ: u32 = 0x1100;
/// POWER9 timebase: 512 MHz (`SPAPR_TIMEBASE_FREQ`).
pub const TIMEBASE_HZ: u32 = 512_000_000;
/// Nominal CPU clock QEMU reports under TCG: 1 GHz.
pub const CLOCK_HZ: u32 = 1_000_000_000;
/// POWER9 DD2.2 PVR, the `cpu-version` QEMU's default pseries CPU reports.
pub const POWER9_PVR: u32 = 0x004e_1200;

/// Phandle of the XICS presentation controller (QEMU uses 0x1111, `PHANDLE_INTC`).
const XICS_PHANDLE: u32 = 0x1111;

/// Writes the whole tree.
pub(crate) fn write(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let root = w.begin_node("")?;
    w.property_string("compatible", "qemu,pseries")?;
    w.property_string("model", "IBM pSeries (emulated by qemu)")?;
    w.property_string("device_type", "chrp")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    write_hypervisor_root_properties(w, cfg)?;
    write_cpus(w, cfg)?;
    write_memory(w, cfg)?;
    write_chosen(w, cfg)?;
    write_hypervisor(w, cfg)?;
    write_xics(w, cfg)?;
    write_vdevice(w)?;
    w.end_node(root)?;
    Ok(())
}

/// `/cpus`: one `PowerPC,POWER9@N` per CPU, one thread each, so the interrupt server
/// number equals the CPU number.
fn write_cpus(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let cpus = w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    for i in 0..cfg.cpus {
        let cpu = w.begin_node(&format!("PowerPC,POWER9@{i:x}"))?;
        w.property_string("device_type", "cpu")?;
        w.property_u32("reg", i)?;
        w.property_u32("cpu-version", POWER9_PVR)?;
        w.property_u32("clock-frequency", CLOCK_HZ)?;
        w.property_u32("timebase-frequency", TIMEBASE_HZ)?;
        // POWER9: 128-byte lines, 32 KiB L1 caches (spapr_dt_cpu).
        w.property_u32("d-cache-block-size", 128)?;
        w.property_u32("d-cache-line-size", 128)?;
        w.property_u32("i-cache-block-size", 128)?;
        w.property_u32("i-cache-line-size", 128)?;
        w.property_u32("d-cache-size", 0x8000)?;
        w.property_u32("i-cache-size", 0x8000)?;
        w.property_u32("ibm,slb-size", 32)?;
        w.property_string("status", "okay")?;
        w.property_null("64-bit")?;
        w.property_u32("ibm,ppc-interrupt-server#s", i)?;
        w.end_node(cpu)?;
    }
    w.end_node(cpus)?;
    Ok(())
}

/// `/interrupt-controller`: the XICS presentation layer, one server per CPU.
fn write_xics(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let node = w.begin_node("interrupt-controller")?;
    w.property_string("compatible", "IBM,ppc-xicp")?;
    w.property_string("device_type", "PowerPC-External-Interrupt-Presentation")?;
    w.property_null("interrupt-controller")?;
    w.property_u32("#address-cells", 0)?;
    w.property_u32("#interrupt-cells", 2)?;
    w.property_array_u32("ibm,interrupt-server-ranges", &[0, cfg.cpus])?;
    w.property_phandle(XICS_PHANDLE)?;
    w.end_node(node)?;
    Ok(())
}

/// `/vdevice`: the VIO bus with the `hvterm1` console.
fn write_vdevice(w: &mut FdtBuilder) -> Result<(), GenError> {
    let bus = w.begin_node("vdevice")?;
    w.property_string("compatible", "IBM,vdevice")?;
    w.property_string("device_type", "vdevice")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    w.property_u32("#interrupt-cells", 2)?;
    w.property_null("interrupt-controller")?;
    let vty = w.begin_node(&format!("vty@{VIO_REG_BASE:x}"))?;
    w.property_string("compatible", "hvterm1")?;
    w.property_string("device_type", "serial")?;
    w.property_u32("reg", VIO_REG_BASE)?;
    w.property_array_u32("interrupts", &[VTY_IRQ, 0])?;
    w.end_node(vty)?;
    w.end_node(bus)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_path_matches_the_node() {
        assert_eq!(VTY_PATH, format!("/vdevice/vty@{VIO_REG_BASE:x}"));
    }
}
