//! QEMU's `ppce500` board as a device tree.
//!
//! Addresses, interrupts and frequencies are QEMU 7.2's (`qemu/qemu: hw/ppc/e500.c
//! (ppce500_load_device_tree, dt_serial_create, create_dt_mpc8xxx_gpio,
//! platform_bus_create_devtree, pci_map_create)`, `hw/ppc/e500plat.c` for the
//! `ppce500` parameters, `hw/pci-host/ppce500.c (ppce500_pci_map_irq_slot)`), checked
//! against the blob QEMU 7.2 dumps (`corpus/dtb/qemu-ppce500.dtb`). The U-Boot QEMU
//! ships for the board (`board/emulation/qemu-ppce500/qemu-ppce500.c`) reads from this
//! tree: `/soc` `ranges` (CCSRBAR), `/memory` `reg` (64-bit size at byte 8, so two
//! address and two size cells), the first `/cpus` child's `clock-frequency` and
//! `timebase-frequency`, `/chosen`, a PCI host it probes, and the `qemu,platform` bus.
//!
//! Where this tree differs from QEMU's, on purpose (each difference removes a dtc
//! 1.6.1 warning QEMU's own tree draws, or a host-dependent value):
//!
//! | QEMU 7.2 | here | dtc check it fixes |
//! |---|---|---|
//! | `/memory` | `/memory@0` | `unit_address_vs_reg` |
//! | `i2c@3000` without `#address-cells`/`#size-cells` | `<1>` / `<0>` | `i2c_bus_bridge`, `reg_format` on `rtc@68` and the checks that need it (`pci_device_reg`, `pci_device_bus_num`, `simple_bus_reg`, `i2c_bus_reg`, `spi_bus_reg`), `avoid_default_addr_size` (and its dependants `avoid_unnecessary_addr_size`, `unique_unit_address`) |
//! | alias `rtc = "i2c/rtc@68"` (relative) | full path | `alias_paths` |
//! | `power-off` inside the soc bus, without `reg` | the same, but only with [`GuestConfig::power_off_gpio`] | `simple_bus_reg` (a `simple-bus` child needs `reg`); and `gpios_property` on recompiling the decompiled text, which dtc 1.6.1 raises for every numeric `gpios` phandle |
//! | `phandle` and `linux,phandle` = 0x8003.. | `phandle` = 1.. | — (dtc's own `-H epapr` default) |
//! | `rng-seed` (random per boot) | [`GuestConfig::rng_seed`] (the CLI: random per `gen` run unless fixed or left out) | — |
//! | `bootargs = ""` always | only when given | — |
//! | properties in reverse insertion order (libfdt prepends) | natural order | — |

use super::{
    Cpu, GenError, GuestConfig, InitrdRange, write_chosen, write_hypervisor,
    write_hypervisor_root_properties, write_memory,
};
use crate::fdt::writer::FdtBuilder;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// CCSR base (`e500plat.c`: `ccsrbar_base = 0xFE0000000ULL`) and size
/// (`MPC8544_CCSRBAR_SIZE`).
pub const CCSRBAR_BASE: u64 = 0xF_E000_0000;
/// Size of the CCSR window.
pub const CCSRBAR_SIZE: u32 = 0x10_0000;
/// MPIC registers (`MPC8544_MPIC_REGS_OFFSET`), 256 KiB.
pub const MPIC_OFFSET: u32 = 0x4_0000;
/// MSI registers (`MPC8544_MSI_REGS_OFFSET`).
pub const MSI_OFFSET: u32 = 0x4_1600;
/// First 16550 (`MPC8544_SERIAL0_REGS_OFFSET`).
pub const SERIAL0_OFFSET: u32 = 0x4500;
/// I2C controller (`MPC8544_I2C_REGS_OFFSET`).
pub const I2C_OFFSET: u32 = 0x3000;
/// PCI host registers (`MPC8544_PCI_REGS_OFFSET`).
pub const PCI_OFFSET: u32 = 0x8000;
/// Global utilities (`MPC8544_UTIL_OFFSET`).
pub const GUTS_OFFSET: u32 = 0xE_0000;
/// GPIO controller (`MPC8XXX_GPIO_OFFSET`).
pub const GPIO_OFFSET: u32 = 0xF_F000;
/// PCI memory window: CPU address, bus address, size (`e500plat.c`).
pub const PCI_MMIO: (u64, u32, u32) = (0xC_0000_0000, 0xE000_0000, 0x2000_0000);
/// PCI I/O window: CPU address and size.
pub const PCI_PIO: (u64, u32) = (0xF_E100_0000, 0x1_0000);
/// Platform bus (`e500plat.c`: `platform_bus_base`, `platform_bus_size`).
pub const PLATFORM_BUS: (u64, u32) = (0xF_0000_0000, 0x800_0000);
/// Spin table for secondary CPUs (`e500plat.c`: `spin_base`), 0x20 bytes per CPU.
pub const SPIN_BASE: u64 = 0xF_EF00_0000;
/// CPU, timebase and platform clock: 400 MHz (`PLATFORM_CLK_FREQ_HZ`).
pub const CLOCK_HZ: u32 = 400_000_000;
/// PCI clock: 66.666666 MHz (`PCI_CLK_FREQ_HZ` in QEMU's dump, 0x3f940aa).
pub const PCI_CLOCK_HZ: u32 = 66_666_666;
/// The first PCI slot with an interrupt-map entry, and how many (`e500plat.c`:
/// `pci_first_slot = 0x1`, `pci_nr_slots = PCI_SLOT_MAX - 1`).
pub const PCI_SLOTS: (u32, u32) = (1, 31);

/// Path of the soc (CCSR) node.
pub const SOC_PATH: &str = "/soc@fe0000000";
/// Path of the console.
pub const SERIAL0_PATH: &str = "/soc@fe0000000/serial@4500";

/// Phandles, fixed numbers rather than handed out as nodes are written, so the bytes
/// never depend on the order the writers run in.
const MPIC_PHANDLE: u32 = 1;
const MSI_PHANDLE: u32 = 2;
const GPIO_PHANDLE: u32 = 3;

/// MPIC interrupt sense for a level-low source (the `2` in QEMU's `<irq 2>` pairs).
const LEVEL: u32 = 2;

/// Where QEMU starts loading blobs after the payload: "u-boot occupies memory up to
/// 32MB, so load blobs above" (`hw/ppc/e500.c (ppce500_init)`).
pub const BLOB_FLOOR: u64 = 32 << 20;
/// `INITRD_LOAD_PAD` (`hw/ppc/e500.c`): the gap QEMU leaves before the initrd.
pub const INITRD_LOAD_PAD: u64 = 0x200_0000;
/// `INITRD_PAD_MASK` (`hw/ppc/e500.c`): the initrd starts on a 16 MiB boundary.
pub const INITRD_PAD_MASK: u64 = 0xFF_FFFF;

/// What QEMU's ELF loader reports for a kernel it loads: the lowest physical load
/// address and the total size, the sum of the `PT_LOAD` segments' memory sizes
/// (`qemu/qemu: include/hw/elf_ops.h (load_elf)`, its `lowaddr` and return value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KernelLoad {
    /// Lowest `p_paddr` of a `PT_LOAD` segment.
    pub low: u64,
    /// Sum of the `PT_LOAD` segments' `p_memsz`.
    pub size: u64,
}

/// Why [`KernelLoad::from_elf`] refused a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KernelError {
    /// Not an ELF file (QEMU would try it as a U-Boot image; ppcpv does not model
    /// that: give the initrd addresses instead).
    #[error("not an ELF file")]
    NotElf,
    /// The headers point outside the file.
    #[error("truncated ELF headers")]
    Truncated,
    /// No `PT_LOAD` segment.
    #[error("no loadable segment")]
    NothingToLoad,
}

impl KernelLoad {
    /// A kernel of `size` bytes loaded from physical address `low`.
    #[must_use]
    pub const fn new(low: u64, size: u64) -> Self {
        KernelLoad { low, size }
    }

    /// Reads the program headers of an ELF kernel (32- or 64-bit, either byte order).
    ///
    /// # Errors
    /// [`KernelError`] for a file that is not ELF, is truncated, or loads nothing.
    pub fn from_elf(file: &[u8]) -> Result<Self, KernelError> {
        use crate::Endian;
        if file.len() < 0x34 || file[..4] != *b"\x7fELF" {
            return Err(KernelError::NotElf);
        }
        let wide = match file[4] {
            1 => false,
            2 => true,
            _ => return Err(KernelError::NotElf),
        };
        let e = match file[5] {
            1 => Endian::Little,
            2 => Endian::Big,
            _ => return Err(KernelError::NotElf),
        };
        let at = |off: usize, len: usize| file.get(off..off + len).ok_or(KernelError::Truncated);
        // (e_phoff, e_phentsize, e_phnum) and, per header, (p_paddr, p_memsz) offsets.
        let (phoff, phentsize, phnum) = if wide {
            (
                e.read_u64(at(0x20, 8)?),
                e.read_u16(at(0x36, 2)?),
                e.read_u16(at(0x38, 2)?),
            )
        } else {
            (
                u64::from(e.read_u32(at(0x1c, 4)?)),
                e.read_u16(at(0x2a, 2)?),
                e.read_u16(at(0x2c, 2)?),
            )
        };
        let phoff = usize::try_from(phoff).map_err(|_| KernelError::Truncated)?;
        let mut low = u64::MAX;
        let mut size: u64 = 0;
        for i in 0..usize::from(phnum) {
            let ph = phoff
                .checked_add(i * usize::from(phentsize))
                .ok_or(KernelError::Truncated)?;
            const PT_LOAD: u32 = 1;
            if e.read_u32(at(ph, 4)?) != PT_LOAD {
                continue;
            }
            let (paddr, memsz) = if wide {
                (e.read_u64(at(ph + 0x18, 8)?), e.read_u64(at(ph + 0x28, 8)?))
            } else {
                (
                    u64::from(e.read_u32(at(ph + 0x0c, 4)?)),
                    u64::from(e.read_u32(at(ph + 0x14, 4)?)),
                )
            };
            low = low.min(paddr);
            size = size.saturating_add(memsz);
        }
        if low == u64::MAX {
            return Err(KernelError::NothingToLoad);
        }
        Ok(KernelLoad { low, size })
    }

    /// Where QEMU 7.2's ppce500 puts an initrd of `initrd_size` bytes when this
    /// kernel is the payload (`-kernel` without `-bios`), as `hw/ppc/e500.c
    /// (ppce500_init)` computes it: the end of the payload, raised to 32 MiB, plus
    /// `INITRD_LOAD_PAD`, rounded down to 16 MiB. `None` when it overflows.
    ///
    /// ```
    /// use ppcpv::dt::machine::ppce500::KernelLoad;
    /// // A 17 MiB kernel at 0: the initrd lands at 64 MiB.
    /// let k = KernelLoad::new(0, 0x109_b588);
    /// let r = k.initrd_range(0x4_b225).unwrap();
    /// assert_eq!((r.start, r.end), (0x400_0000, 0x404_b225));
    /// ```
    #[must_use]
    pub fn initrd_range(self, initrd_size: u64) -> Option<InitrdRange> {
        let cur = self.low.checked_add(self.size)?.max(BLOB_FLOOR);
        let start = cur.checked_add(INITRD_LOAD_PAD)? & !INITRD_PAD_MASK;
        Some(InitrdRange::new(start, start.checked_add(initrd_size)?))
    }
}

/// Writes the whole tree.
pub(crate) fn write(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let root = w.begin_node("")?;
    w.property_string("compatible", "fsl,qemu-e500")?;
    w.property_string("model", "QEMU ppce500")?;
    w.property_u32("#address-cells", 2)?;
    w.property_u32("#size-cells", 2)?;
    write_hypervisor_root_properties(w, cfg)?;
    write_cpus(w, cfg)?;
    write_memory(w, cfg)?;
    write_chosen(w, cfg)?;
    write_aliases(w)?;
    write_hypervisor(w, cfg)?;
    write_soc(w, cfg)?;
    write_pci(w)?;
    write_platform(w)?;
    w.end_node(root)?;
    Ok(())
}

/// `/cpus`: `PowerPC,8544@N` per CPU; CPU 0 runs, the others wait on the spin table
/// (ePAPR `enable-method = "spin-table"` with a 64-bit `cpu-release-addr`).
fn write_cpus(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let cpus = w.begin_node("cpus")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    for i in 0..cfg.cpus {
        let cpu = w.begin_node(&format!("PowerPC,8544@{i:x}"))?;
        w.property_string("device_type", "cpu")?;
        w.property_u32("reg", i)?;
        w.property_u32("clock-frequency", CLOCK_HZ)?;
        w.property_u32("timebase-frequency", CLOCK_HZ)?;
        w.property_u32("bus-frequency", 0)?;
        // The core's L1 line size (QEMU `env->dcache_line_size`), 32 KiB L1 caches
        // whatever the core (QEMU writes 0x8000 for every -cpu).
        let line = cfg.cpu_model().map_or(32, Cpu::cache_line_size);
        w.property_u32("d-cache-line-size", line)?;
        w.property_u32("i-cache-line-size", line)?;
        w.property_u32("d-cache-size", 0x8000)?;
        w.property_u32("i-cache-size", 0x8000)?;
        if i == 0 {
            w.property_string("status", "okay")?;
        } else {
            w.property_string("status", "disabled")?;
            w.property_string("enable-method", "spin-table")?;
            w.property_u64("cpu-release-addr", SPIN_BASE + u64::from(i) * 0x20)?;
        }
        w.end_node(cpu)?;
    }
    w.end_node(cpus)?;
    Ok(())
}

/// `/aliases`, every value a full path.
fn write_aliases(w: &mut FdtBuilder) -> Result<(), GenError> {
    let node = w.begin_node("aliases")?;
    w.property_string("serial0", SERIAL0_PATH)?;
    w.property_string("pci0", &pci_path())?;
    w.property_string("i2c", &format!("{SOC_PATH}/i2c@{I2C_OFFSET:x}"))?;
    w.property_string("rtc", &format!("{SOC_PATH}/i2c@{I2C_OFFSET:x}/rtc@68"))?;
    w.end_node(node)?;
    Ok(())
}

fn pci_path() -> String {
    format!("/pci@{:x}", CCSRBAR_BASE + u64::from(PCI_OFFSET))
}

fn hi(v: u64) -> u32 {
    (v >> 32) as u32
}

fn lo(v: u64) -> u32 {
    (v & 0xffff_ffff) as u32
}

/// The CCSR as a `simple-bus`, children in address order.
fn write_soc(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let soc = w.begin_node(&SOC_PATH[1..])?;
    w.property_string_list("compatible", &["fsl,mpc8544-immr", "simple-bus"])?;
    w.property_string("device_type", "soc")?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 1)?;
    w.property_array_u32(
        "ranges",
        &[0, hi(CCSRBAR_BASE), lo(CCSRBAR_BASE), CCSRBAR_SIZE],
    )?;
    w.property_u32("bus-frequency", 0)?;

    // I2C controller with the RTC QEMU attaches to it (a DS1338-compatible part).
    let i2c = w.begin_node(&format!("i2c@{I2C_OFFSET:x}"))?;
    w.property_string("compatible", "fsl-i2c")?;
    w.property_string("device_type", "i2c")?;
    w.property_array_u32("reg", &[I2C_OFFSET, 0x14])?;
    w.property_u32("cell-index", 0)?;
    w.property_array_u32("interrupts", &[43, LEVEL])?;
    w.property_u32("interrupt-parent", MPIC_PHANDLE)?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 0)?;
    let rtc = w.begin_node("rtc@68")?;
    w.property_string("compatible", "pericom,pt7c4338")?;
    w.property_u32("reg", 0x68)?;
    w.end_node(rtc)?;
    w.end_node(i2c)?;

    let serial = w.begin_node(&format!("serial@{SERIAL0_OFFSET:x}"))?;
    w.property_string("compatible", "ns16550")?;
    w.property_string("device_type", "serial")?;
    w.property_array_u32("reg", &[SERIAL0_OFFSET, 0x100])?;
    w.property_u32("cell-index", 0)?;
    w.property_u32("clock-frequency", CLOCK_HZ)?;
    w.property_array_u32("interrupts", &[42, LEVEL])?;
    w.property_u32("interrupt-parent", MPIC_PHANDLE)?;
    w.end_node(serial)?;

    let pic = w.begin_node(&format!("pic@{MPIC_OFFSET:x}"))?;
    w.property_string("compatible", "fsl,mpic")?;
    w.property_string("device_type", "open-pic")?;
    w.property_array_u32("reg", &[MPIC_OFFSET, 0x4_0000])?;
    w.property_u32("#address-cells", 0)?;
    w.property_u32("#interrupt-cells", 2)?;
    w.property_null("interrupt-controller")?;
    w.property_phandle(MPIC_PHANDLE)?;
    w.end_node(pic)?;

    let msi = w.begin_node(&format!("msi@{MSI_OFFSET:x}"))?;
    w.property_string("compatible", "fsl,mpic-msi")?;
    w.property_array_u32("reg", &[MSI_OFFSET, 0x200])?;
    w.property_array_u32("msi-available-ranges", &[0, 0x100])?;
    let msi_irqs: Vec<u32> = (0xe0..0xe8).flat_map(|irq| [irq, 0]).collect();
    w.property_array_u32("interrupts", &msi_irqs)?;
    w.property_u32("interrupt-parent", MPIC_PHANDLE)?;
    w.property_phandle(MSI_PHANDLE)?;
    w.end_node(msi)?;

    let guts = w.begin_node(&format!("global-utilities@{GUTS_OFFSET:x}"))?;
    w.property_string("compatible", "fsl,mpc8544-guts")?;
    w.property_array_u32("reg", &[GUTS_OFFSET, 0x1000])?;
    w.property_null("fsl,has-rstcr")?;
    w.end_node(guts)?;

    let gpio = w.begin_node(&format!("gpio@{GPIO_OFFSET:x}"))?;
    w.property_string("compatible", "fsl,qoriq-gpio")?;
    w.property_array_u32("reg", &[GPIO_OFFSET, 0x1000])?;
    w.property_array_u32("interrupts", &[47, LEVEL])?;
    w.property_u32("interrupt-parent", MPIC_PHANDLE)?;
    w.property_u32("#gpio-cells", 2)?;
    w.property_null("gpio-controller")?;
    w.property_phandle(GPIO_PHANDLE)?;
    w.end_node(gpio)?;
    if cfg.power_off_gpio {
        write_power_off(w)?;
    }

    w.end_node(soc)?;
    Ok(())
}

/// The interrupt-map of the PCI host: for every slot and INTA..INTD, the MPIC source
/// `((slot + pin) % 4) + 1` (`hw/pci-host/ppce500.c (ppce500_pci_map_irq_slot)`, as
/// `pci_map_create` writes it), level-low.
fn pci_interrupt_map() -> Vec<u32> {
    let (first, count) = PCI_SLOTS;
    let mut map = Vec::with_capacity((count * 4 * 7) as usize);
    for slot in first..first + count {
        for pin in 0..4 {
            map.extend_from_slice(&[
                slot << 11,
                0,
                0,
                pin + 1,
                MPIC_PHANDLE,
                (slot + pin) % 4 + 1,
                1,
            ]);
        }
    }
    map
}

/// The MPC8540-style PCI host bridge.
fn write_pci(w: &mut FdtBuilder) -> Result<(), GenError> {
    let base = CCSRBAR_BASE + u64::from(PCI_OFFSET);
    let pci = w.begin_node(&pci_path()[1..])?;
    w.property_string("compatible", "fsl,mpc8540-pci")?;
    w.property_string("device_type", "pci")?;
    w.property_array_u32("reg", &[hi(base), lo(base), 0, 0x1000])?;
    w.property_u32("cell-index", 0)?;
    w.property_u32("#address-cells", 3)?;
    w.property_u32("#size-cells", 2)?;
    w.property_u32("#interrupt-cells", 1)?;
    let (mmio_cpu, mmio_bus, mmio_size) = PCI_MMIO;
    let (pio_cpu, pio_size) = PCI_PIO;
    w.property_array_u32(
        "ranges",
        &[
            0x0200_0000,
            0,
            mmio_bus,
            hi(mmio_cpu),
            lo(mmio_cpu),
            0,
            mmio_size,
            0x0100_0000,
            0,
            0,
            hi(pio_cpu),
            lo(pio_cpu),
            0,
            pio_size,
        ],
    )?;
    w.property_array_u32("bus-range", &[0, 255])?;
    w.property_u32("clock-frequency", PCI_CLOCK_HZ)?;
    w.property_array_u32("interrupts", &[24, LEVEL])?;
    w.property_u32("interrupt-parent", MPIC_PHANDLE)?;
    w.property_array_u32("interrupt-map-mask", &[0xf800, 0, 0, 7])?;
    w.property_array_u32("interrupt-map", &pci_interrupt_map())?;
    w.property_u32("fsl,msi", MSI_PHANDLE)?;
    w.end_node(pci)?;
    Ok(())
}

/// The dynamic sysbus window (`qemu,platform`), empty: ppcpv adds no eTSEC devices.
fn write_platform(w: &mut FdtBuilder) -> Result<(), GenError> {
    let (base, size) = PLATFORM_BUS;
    let node = w.begin_node(&format!("platform@{base:x}"))?;
    w.property_string_list("compatible", &["qemu,platform", "simple-bus"])?;
    w.property_u32("#address-cells", 1)?;
    w.property_u32("#size-cells", 1)?;
    w.property_array_u32("ranges", &[0, hi(base), lo(base), size])?;
    w.property_u32("interrupt-parent", MPIC_PHANDLE)?;
    w.end_node(node)?;
    Ok(())
}

/// `power-off` in the soc node, as `qemu/qemu: hw/ppc/e500.c (create_dt_mpc8xxx_gpio)`
/// writes it: GPIO 0 of the soc's controller powers the board off
/// (`ppce500_power_off`). Linux's `gpio-poweroff` driver binds it there, because the
/// platform populates the children of the `simple-bus` soc.
fn write_power_off(w: &mut FdtBuilder) -> Result<(), GenError> {
    let node = w.begin_node("power-off")?;
    w.property_string("compatible", "gpio-poweroff")?;
    w.property_array_u32("gpios", &[GPIO_PHANDLE, 0, 0])?;
    w.end_node(node)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_map_matches_qemu_7_2() {
        // First and last rows of corpus/ref/qemu-ppce500.dts.
        let map = pci_interrupt_map();
        assert_eq!(map.len(), 31 * 4 * 7);
        assert_eq!(&map[..7], &[0x800, 0, 0, 1, MPIC_PHANDLE, 2, 1]);
        assert_eq!(&map[7..14], &[0x800, 0, 0, 2, MPIC_PHANDLE, 3, 1]);
        assert_eq!(
            &map[map.len() - 7..],
            &[0xf800, 0, 0, 4, MPIC_PHANDLE, 3, 1]
        );
    }

    #[test]
    fn paths_are_the_ones_qemu_uses() {
        assert_eq!(pci_path(), "/pci@fe0008000");
        assert_eq!(
            SERIAL0_PATH,
            format!("{SOC_PATH}/serial@{SERIAL0_OFFSET:x}")
        );
        assert_eq!(SOC_PATH, format!("/soc@{CCSRBAR_BASE:x}"));
    }
}
