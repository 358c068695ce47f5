//! Complete guest device trees: a [`GuestConfig`] value in, a DTB out.
//!
//! Generation is a pure function of the config ([`generate`]): nothing is read from the
//! host, the same config always gives the same bytes, and every node is written by its
//! own function in document order (the shape of cloud-hypervisor's
//! `arch/src/aarch64/fdt.rs`: one writer per node, so a node's layout is read in one
//! place and the tree's order is the order of the calls). Three machines are modelled:
//!
//! * [`Machine::Ppce500`] — the board QEMU's `ppce500` machine emulates (an MPC8544-style
//!   CCSR with MPIC, MSI, 16550 serial, I2C + RTC, GPIO power-off, global utilities, a
//!   PCI host and a platform bus), laid out as `qemu/qemu: hw/ppc/e500.c
//!   (ppce500_load_device_tree)` writes it in QEMU 7.2, but clean under every dtc check
//!   (see [`ppce500`]);
//! * [`Machine::Pseries`] — a minimal PAPR guest in the layout of `qemu/qemu:
//!   hw/ppc/spapr.c (spapr_build_fdt)`, without the hardware ppcpv does not model;
//! * [`Machine::Minimal`] — root, cpus, memory, chosen and `/hypervisor` only.
//!
//! The `/hypervisor` node itself comes from [`crate::dt::hypervisor`]; which node a
//! guest may have depends on who runs it ([`GuestConfig::host`]: QEMU without KVM, or a
//! KVM host kind), and [`generate`] refuses one that would crash or stall the guest
//! there (see [`crate::dt::host`]).

pub mod minimal;
pub mod ppce500;
pub mod pseries;

use crate::dt::host::{Host, HostProblem};
use crate::dt::hypervisor::{Flavour, HypervisorNode, NodeError};
use crate::fdt::writer::{FdtBuilder, Padding, WriteError};
use crate::hcall::HostProfile;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// The guest boards [`generate`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Machine {
    /// QEMU's `ppce500` board (e500v2 cores, MPC8544-style CCSR).
    #[default]
    Ppce500,
    /// A minimal PAPR (`pseries`) guest.
    Pseries,
    /// Root, cpus, memory, chosen and `/hypervisor` only.
    Minimal,
}

impl Machine {
    /// Every machine, in the order `--help` lists them.
    pub const ALL: [Machine; 3] = [Machine::Ppce500, Machine::Pseries, Machine::Minimal];

    /// The name used on the command line and in golden file names.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Machine::Ppce500 => "ppce500",
            Machine::Pseries => "pseries",
            Machine::Minimal => "minimal",
        }
    }

    /// QEMU's default RAM size for the machine: 128 MiB for ppce500 (QEMU's
    /// `mc->default_ram_size` default), 512 MiB for pseries (`hw/ppc/spapr.c`,
    /// `mc->default_ram_size = 512 * MiB`); minimal follows ppce500.
    #[must_use]
    pub fn default_memory(self) -> u64 {
        match self {
            Machine::Ppce500 | Machine::Minimal => 128 << 20,
            Machine::Pseries => 512 << 20,
        }
    }

    /// The largest CPU count the machine supports: 32 for ppce500 (QEMU
    /// `hw/ppc/e500plat.c`, `mc->max_cpus = 32`, the MPIC's limit), 1024 for pseries
    /// (`hw/ppc/spapr.c`, `mc->max_cpus = 1024`); minimal uses the same cap.
    #[must_use]
    pub fn max_cpus(self) -> u32 {
        match self {
            Machine::Ppce500 => 32,
            Machine::Pseries | Machine::Minimal => 1024,
        }
    }

    /// The CPU the machine's tree describes by default: e500v2 on ppce500 (QEMU's
    /// default `-cpu` for the board), POWER9 on pseries; none on minimal, whose CPU
    /// nodes name no model.
    #[must_use]
    pub fn default_cpu(self) -> Option<Cpu> {
        match self {
            Machine::Ppce500 => Some(Cpu::E500v2),
            Machine::Pseries => Some(Cpu::Power9),
            Machine::Minimal => None,
        }
    }

    /// The CPUs the machine can be given: the e500 family on ppce500 (QEMU's
    /// `ppce500` accepts every `POWERPC_MMU_BOOKE206` core, `hw/ppc/e500.c
    /// (ppce500_init)`), POWER9 on pseries, none on minimal.
    #[must_use]
    pub fn cpus(self) -> &'static [Cpu] {
        match self {
            Machine::Ppce500 => &[Cpu::E500v2, Cpu::E500mc, Cpu::E5500, Cpu::E6500],
            Machine::Pseries => &[Cpu::Power9],
            Machine::Minimal => &[],
        }
    }

    /// Whether the default `/hypervisor` node carries `has-idle`: QEMU's e500 board
    /// writes it when KVM offers `EV_IDLE` (`qemu/qemu: hw/ppc/e500.c
    /// (ppce500_load_device_tree)`, `kvmppc_get_hasidle`), spapr never does
    /// (`hw/ppc/spapr.c (spapr_dt_hypervisor)`).
    #[must_use]
    pub fn default_has_idle(self) -> bool {
        !matches!(self, Machine::Pseries)
    }

    /// The console the machine's `/chosen` points at when no `--stdout-path` is given.
    #[must_use]
    pub fn default_stdout_path(self) -> Option<&'static str> {
        match self {
            Machine::Ppce500 => Some(ppce500::SERIAL0_PATH),
            Machine::Pseries => Some(pseries::VTY_PATH),
            Machine::Minimal => None,
        }
    }
}

/// A guest CPU model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cpu {
    /// Freescale e500v2 (32-bit BookE; QEMU's default on ppce500).
    E500v2,
    /// Freescale e500mc (32-bit BookE with the hypervisor category).
    E500mc,
    /// Freescale e5500 (64-bit BookE).
    E5500,
    /// Freescale e6500 (64-bit BookE).
    E6500,
    /// IBM POWER9 (64-bit Book3S; pseries).
    Power9,
}

impl Cpu {
    /// Every model, in the order `--help` lists them.
    pub const ALL: [Cpu; 5] = [
        Cpu::E500v2,
        Cpu::E500mc,
        Cpu::E5500,
        Cpu::E6500,
        Cpu::Power9,
    ];

    /// The name, as QEMU's `-cpu` spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Cpu::E500v2 => "e500v2",
            Cpu::E500mc => "e500mc",
            Cpu::E5500 => "e5500",
            Cpu::E6500 => "e6500",
            Cpu::Power9 => "power9",
        }
    }

    /// Whether the core implements the 64-bit instructions (e5500, e6500, POWER9).
    #[must_use]
    pub const fn is_64bit(self) -> bool {
        matches!(self, Cpu::E5500 | Cpu::E6500 | Cpu::Power9)
    }

    /// Whether it is a Book3S (server) core.
    #[must_use]
    pub const fn is_book3s(self) -> bool {
        matches!(self, Cpu::Power9)
    }

    /// Whether KVM BookE-HV runs it (the cores with the embedded hypervisor category:
    /// e500mc, e5500, e6500).
    #[must_use]
    pub const fn is_booke_hv_guest(self) -> bool {
        matches!(self, Cpu::E500mc | Cpu::E5500 | Cpu::E6500)
    }

    /// The L1 cache line size QEMU 7.2 writes for the core on ppce500
    /// (`env->dcache_line_size`, `env->icache_line_size` set by `qemu/qemu:
    /// target/ppc/cpu_init.c (init_proc_e500)`): 64 bytes on e500mc and e5500, 32 on
    /// e500v2 and e6500, as QEMU's own `-machine dumpdtb` trees show; 128 on POWER9.
    #[must_use]
    pub const fn cache_line_size(self) -> u32 {
        match self {
            Cpu::E500v2 | Cpu::E6500 => 32,
            Cpu::E500mc | Cpu::E5500 => 64,
            Cpu::Power9 => 128,
        }
    }
}

impl Cpu {
    /// The CPU a tree describes, as far as it can be told: `PowerPC,POWER9` CPU nodes
    /// are POWER9; QEMU's e500 trees (`PowerPC,8544` nodes, or the root compatible
    /// `fsl,qemu-e500`) name no core, so the cache line size decides: 32 bytes reads as
    /// e500v2, 64 as e500mc. Both readings are 32-bit, the safe side for judging
    /// hypercall words: an e5500 or e6500 tree is judged as a 32-bit one. `None` when
    /// the tree says nothing.
    #[must_use]
    pub fn from_fdt(fdt: &crate::fdt::Fdt<'_>) -> Option<Cpu> {
        let cpu = fdt.find("/cpus")?.children().find(|c| {
            c.property("device_type")
                .is_some_and(|p| p.value == b"cpu\0")
        });
        let name = cpu.map_or("", |c| c.name());
        if name.starts_with("PowerPC,POWER9") {
            return Some(Cpu::Power9);
        }
        let e500_root = fdt
            .root()
            .property("compatible")
            .is_some_and(|p| p.value.split(|&b| b == 0).any(|s| s == b"fsl,qemu-e500"));
        if !(name.starts_with("PowerPC,8544") || e500_root) {
            return None;
        }
        let line = cpu
            .and_then(|c| c.property("d-cache-line-size"))
            .and_then(|p| crate::endian::be::u32_at(p.value, 0));
        Some(if line == Some(64) {
            Cpu::E500mc
        } else {
            Cpu::E500v2
        })
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cpu {
    type Err = GenError;
    fn from_str(s: &str) -> Result<Self, GenError> {
        Cpu::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| GenError::UnknownCpu(s.to_string()))
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Machine {
    type Err = GenError;
    fn from_str(s: &str) -> Result<Self, GenError> {
        Machine::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| GenError::UnknownMachine(s.to_string()))
    }
}

/// An initrd already loaded into guest memory: `[start, end)` physical addresses, as
/// Linux reads them from `/chosen` `linux,initrd-start` / `linux,initrd-end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct InitrdRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl InitrdRange {
    /// `[start, end)`; [`GuestConfig::validate`] checks it.
    #[must_use]
    pub const fn new(start: u64, end: u64) -> Self {
        InitrdRange { start, end }
    }
}

/// One memory reservation (`/memreserve/` entry of the blob header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemReserve {
    /// Physical address.
    pub address: u64,
    /// Size in bytes (non-zero).
    pub size: u64,
}

impl MemReserve {
    /// `size` bytes at `address`.
    #[must_use]
    pub const fn new(address: u64, size: u64) -> Self {
        MemReserve { address, size }
    }
}

/// Everything that decides a guest tree. Build one with [`GuestConfig::for_host`] (or
/// [`GuestConfig::new`], the machine's KVM tree), then chain the `with_*` methods;
/// [`generate`] turns it into a DTB.
///
/// ```
/// use ppcpv::dt::host::Host;
/// use ppcpv::dt::machine::{GuestConfig, Machine, generate};
///
/// let cfg = GuestConfig::for_host(Machine::Ppce500, Host::Tcg)
///     .with_memory(256 << 20)
///     .with_cpus(2)
///     .with_bootargs("console=ttyS0");
/// assert!(generate(&cfg).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GuestConfig {
    /// The board.
    pub machine: Machine,
    /// The CPU model; `None` takes the machine's ([`Machine::default_cpu`]).
    pub cpu: Option<Cpu>,
    /// Who will run the guest. [`generate`] refuses a `/hypervisor` node that would
    /// crash or stall the guest there ([`GuestConfig::host_problems`]) unless
    /// [`GuestConfig::force`] is set.
    pub host: Host,
    /// Write the tree even when [`GuestConfig::host_problems`] finds fault with it
    /// (for testing how guests fail).
    pub force: bool,
    /// RAM size in bytes, one bank at physical address 0.
    pub memory: u64,
    /// Number of CPUs; CPU 0 boots, the others wait (spin table on ppce500).
    pub cpus: u32,
    /// Kernel command line (`/chosen/bootargs`); `None` writes no property.
    pub bootargs: Option<String>,
    /// An initrd the loader placed in memory.
    pub initrd: Option<InitrdRange>,
    /// The console path (`/chosen/stdout-path`); `None` takes the machine's default.
    pub stdout_path: Option<String>,
    /// `/chosen/rng-seed`: bytes Linux mixes into (and, with
    /// `CONFIG_RANDOM_TRUST_BOOTLOADER`, credits to) its random pool
    /// (`torvalds/linux: drivers/of/fdt.c (early_init_dt_scan_chosen)`). QEMU writes 32
    /// random bytes (`qemu/qemu: hw/ppc/e500.c (ppce500_load_device_tree)`). `None`
    /// writes none; the library never invents one, so a config always gives the same
    /// bytes (the CLI fills it from the OS unless told otherwise).
    pub rng_seed: Option<Vec<u8>>,
    /// The `/hypervisor` node; `None` writes none (a guest that is not told about KVM).
    pub hypervisor: Option<HypervisorNode>,
    /// Memory reservations for the header's reserve map, in this order.
    pub memreserves: Vec<MemReserve>,
    /// ppce500 only: add QEMU's GPIO power-off line (`gpio-poweroff` on GPIO 0) as
    /// `power-off` inside the soc node, where QEMU puts it and where Linux creates its
    /// device (the soc is a `simple-bus` that `mpc85xx_common_publish_devices`
    /// populates; `torvalds/linux: arch/powerpc/platforms/85xx/common.c`). Off by
    /// default because dtc 1.6.1 warns about it: a `simple-bus` child without `reg`
    /// (`simple_bus_reg`), and on recompiling the decompiled tree `gpios_property`,
    /// since a DTB carries no phandle reference markers (`dgibson/dtc: checks.c`).
    pub power_off_gpio: bool,
    /// Free space after the strings block (dtc `-p`/`-S`/`-a`), for later in-place
    /// edits by a bootloader or `fdtput`.
    pub padding: Padding,
}

impl GuestConfig {
    /// The tree QEMU writes for `machine` under KVM, on the host kind that runs the
    /// machine's CPU ([`Host::kvm_for`]): a `"linux,kvm"` node with the `kvm-pr` words
    /// (e500v2 and Book3S PR hosts), `has-idle` on ppce500 and minimal, not on pseries.
    /// Otherwise QEMU's defaults: its RAM size, one CPU, no bootargs or initrd, the
    /// machine's console. For a guest under QEMU without KVM use
    /// [`GuestConfig::for_host`] with [`Host::Tcg`].
    #[must_use]
    pub fn new(machine: Machine) -> Self {
        let host = machine
            .default_cpu()
            .map_or(Host::Kvm(HostProfile::E500v2), Host::kvm_for);
        GuestConfig::for_host(machine, host)
    }

    /// The machine's defaults for a guest `host` will run: the node
    /// [`Host::node`] gives (none under TCG, the host's words under KVM, with
    /// `has-idle` where the machine's QEMU board writes it).
    ///
    /// ```
    /// use ppcpv::dt::host::Host;
    /// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
    ///
    /// let cfg = GuestConfig::for_host(Machine::Ppce500, Host::Tcg);
    /// let dtb = generate(&cfg).unwrap();
    /// assert!(ppcpv::fdt::Fdt::new(&dtb).unwrap().find("/hypervisor").is_none());
    /// ```
    #[must_use]
    pub fn for_host(machine: Machine, host: Host) -> Self {
        GuestConfig {
            machine,
            cpu: None,
            host,
            force: false,
            memory: machine.default_memory(),
            cpus: 1,
            bootargs: None,
            initrd: None,
            stdout_path: None,
            rng_seed: None,
            hypervisor: host.node(None, machine.default_has_idle()),
            memreserves: Vec::new(),
            power_off_gpio: false,
            padding: Padding::NONE,
        }
    }

    /// This config with `memory` bytes of RAM.
    #[must_use]
    pub fn with_memory(mut self, memory: u64) -> Self {
        self.memory = memory;
        self
    }

    /// This config with `cpus` CPUs.
    #[must_use]
    pub fn with_cpus(mut self, cpus: u32) -> Self {
        self.cpus = cpus;
        self
    }

    /// This config with a kernel command line.
    #[must_use]
    pub fn with_bootargs(mut self, bootargs: impl Into<String>) -> Self {
        self.bootargs = Some(bootargs.into());
        self
    }

    /// This config with an initrd at `[start, end)`.
    #[must_use]
    pub fn with_initrd(mut self, initrd: InitrdRange) -> Self {
        self.initrd = Some(initrd);
        self
    }

    /// This config with an explicit console path.
    #[must_use]
    pub fn with_stdout_path(mut self, path: impl Into<String>) -> Self {
        self.stdout_path = Some(path.into());
        self
    }

    /// This config with this `/hypervisor` node, or none.
    #[must_use]
    pub fn with_hypervisor(mut self, node: Option<HypervisorNode>) -> Self {
        self.hypervisor = node;
        self
    }

    /// This config with one more memory reservation.
    #[must_use]
    pub fn with_memreserve(mut self, reserve: MemReserve) -> Self {
        self.memreserves.push(reserve);
        self
    }

    /// This config with or without ppce500's `/power-off` node.
    #[must_use]
    pub fn with_power_off_gpio(mut self, on: bool) -> Self {
        self.power_off_gpio = on;
        self
    }

    /// This config with free space after the blob's strings.
    #[must_use]
    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }

    /// This config for a given CPU model (ppce500: e500v2, e500mc, e5500, e6500).
    #[must_use]
    pub fn with_cpu(mut self, cpu: Cpu) -> Self {
        self.cpu = Some(cpu);
        self
    }

    /// This config with an `rng-seed` in `/chosen` (or none).
    #[must_use]
    pub fn with_rng_seed(mut self, seed: Option<Vec<u8>>) -> Self {
        self.rng_seed = seed;
        self
    }

    /// This config written even when the node would crash the guest on its host.
    #[must_use]
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// The CPU model the tree describes: [`GuestConfig::cpu`], else the machine's.
    #[must_use]
    pub fn cpu_model(&self) -> Option<Cpu> {
        self.cpu.or(self.machine.default_cpu())
    }

    /// The console path `/chosen` gets: the explicit one, else the machine's default.
    #[must_use]
    pub fn effective_stdout_path(&self) -> Option<&str> {
        self.stdout_path
            .as_deref()
            .or(self.machine.default_stdout_path())
    }

    /// Why the `/hypervisor` node (and the host/CPU pairing) would crash or stall the
    /// guest on [`GuestConfig::host`]; see [`crate::dt::host::check`]. Empty when the
    /// tree is right for that host.
    #[must_use]
    pub fn host_problems(&self) -> Vec<HostProblem> {
        match &self.hypervisor {
            Some(hv) => crate::dt::host::check(self.host, hv, self.cpu_model()),
            None => match (self.host, self.cpu_model()) {
                (Host::Kvm(_), Some(cpu)) if !self.host.runs(cpu) => {
                    alloc::vec![HostProblem::CpuNotRun {
                        host: self.host,
                        cpu
                    }]
                }
                _ => Vec::new(),
            },
        }
    }

    /// Checks the config without writing anything.
    ///
    /// # Errors
    /// [`GenError`] naming the first field that cannot be generated.
    pub fn validate(&self) -> Result<(), GenError> {
        if self.memory == 0 || !self.memory.is_multiple_of(PAGE) {
            return Err(GenError::BadMemory(self.memory));
        }
        let max = self.machine.max_cpus();
        if self.cpus == 0 || self.cpus > max {
            return Err(GenError::BadCpus {
                cpus: self.cpus,
                machine: self.machine,
                max,
            });
        }
        if let Some(cpu) = self.cpu
            && !self.machine.cpus().contains(&cpu)
        {
            return Err(GenError::CpuNotOnMachine {
                cpu,
                machine: self.machine,
            });
        }
        if let Some(r) = self.initrd {
            if r.end <= r.start {
                return Err(GenError::InitrdEmpty {
                    start: r.start,
                    end: r.end,
                });
            }
            if r.end > self.memory {
                return Err(GenError::InitrdOutsideMemory {
                    end: r.end,
                    memory: self.memory,
                });
            }
        }
        for (name, text) in [
            ("bootargs", self.bootargs.as_deref()),
            ("stdout-path", self.stdout_path.as_deref()),
        ] {
            if text.is_some_and(|t| t.contains('\0')) {
                return Err(GenError::NulInString(name));
            }
        }
        if self.stdout_path.as_deref() == Some("") {
            return Err(GenError::EmptyStdoutPath);
        }
        if self.rng_seed.as_ref().is_some_and(Vec::is_empty) {
            return Err(GenError::EmptyRngSeed);
        }
        if !self.force
            && let Some(problem) = self.host_problems().into_iter().next()
        {
            return Err(GenError::WrongForHost {
                host: self.host,
                problem,
            });
        }
        Ok(())
    }
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig::new(Machine::default())
    }
}

/// The `/hypervisor` node a `machine` gets with `flavour` on the KVM host that runs
/// its CPU: the flavour's preset, plus `has-idle` for the KVM flavour on machines
/// whose QEMU board writes it ([`Machine::default_has_idle`]). The Topaz hypervisor
/// (the ePAPR preset) never writes `has-idle` (the string does not occur in its
/// sources, `nxp-qoriq-yocto-sdk/hypervisor: src/guest.c`).
#[must_use]
pub fn default_hypervisor(machine: Machine, flavour: Flavour) -> HypervisorNode {
    let mut hv = HypervisorNode::preset(flavour);
    hv.has_idle = flavour == Flavour::Kvm && machine.default_has_idle();
    hv
}

/// RAM sizes are whole 4 KiB pages.
const PAGE: u64 = 4096;

/// Why a guest tree could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenError {
    /// `--machine` named no known board.
    #[error("unknown machine '{0}' (known: ppce500, pseries, minimal)")]
    UnknownMachine(String),
    /// `--cpu` named no known model.
    #[error("unknown CPU '{0}' (known: e500v2, e500mc, e5500, e6500, power9)")]
    UnknownCpu(String),
    /// The CPU is not one the machine has.
    #[error("machine {machine} has no {cpu} CPU")]
    CpuNotOnMachine {
        /// The CPU.
        cpu: Cpu,
        /// The machine.
        machine: Machine,
    },
    /// `rng_seed` is set but empty.
    #[error("rng-seed must not be empty")]
    EmptyRngSeed,
    /// The `/hypervisor` node would crash or stall the guest on the chosen host.
    #[error("not right for host {host}: {problem}")]
    WrongForHost {
        /// The host.
        host: Host,
        /// The first reason.
        problem: HostProblem,
    },
    /// The RAM size is zero or not a whole number of 4 KiB pages.
    #[error("memory size {0:#x} must be a non-zero multiple of 4 KiB")]
    BadMemory(u64),
    /// The CPU count is zero or above the machine's limit.
    #[error("{cpus} CPUs: machine {machine} supports 1 to {max}")]
    BadCpus {
        /// Requested count.
        cpus: u32,
        /// The machine.
        machine: Machine,
        /// Its limit.
        max: u32,
    },
    /// The initrd range is empty or reversed.
    #[error("initrd range {start:#x}..{end:#x} is empty (end must be above start)")]
    InitrdEmpty {
        /// Start address.
        start: u64,
        /// End address.
        end: u64,
    },
    /// The initrd ends beyond guest RAM.
    #[error("initrd ends at {end:#x}, beyond guest memory ({memory:#x} bytes)")]
    InitrdOutsideMemory {
        /// End address.
        end: u64,
        /// RAM size.
        memory: u64,
    },
    /// A string option holds a NUL byte, which a DT string cannot carry.
    #[error("{0} contains a NUL byte")]
    NulInString(&'static str),
    /// `stdout_path` was set to the empty string.
    #[error("stdout-path must not be empty")]
    EmptyStdoutPath,
    /// The `/hypervisor` node model was refused.
    #[error("/hypervisor node: {0}")]
    Hypervisor(#[from] NodeError),
    /// The tree writer refused (a memreserve overlap, a size beyond 32 bits, ...).
    #[error("writing the tree: {0}")]
    Writer(#[from] WriteError),
}

/// Writes the guest tree `cfg` describes.
///
/// ```
/// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
///
/// let dtb = generate(&GuestConfig::new(Machine::Ppce500)).unwrap();
/// let fdt = ppcpv::fdt::Fdt::new(&dtb).unwrap();
/// assert!(fdt.find("/hypervisor").is_some());
/// ```
///
/// # Errors
/// [`GenError`] when [`GuestConfig::validate`] refuses the config or the writer fails.
pub fn generate(cfg: &GuestConfig) -> Result<Vec<u8>, GenError> {
    cfg.validate()?;
    let reserves: Vec<(u64, u64)> = cfg
        .memreserves
        .iter()
        .map(|r| (r.address, r.size))
        .collect();
    let mut w = FdtBuilder::with_memreserves(&reserves)?;
    // The boot CPU is CPU 0 on every machine (QEMU starts vCPU 0; the others spin).
    w.set_boot_cpuid_phys(0);
    match cfg.machine {
        Machine::Ppce500 => ppce500::write(&mut w, cfg)?,
        Machine::Pseries => pseries::write(&mut w, cfg)?,
        Machine::Minimal => minimal::write(&mut w, cfg)?,
    }
    Ok(w.finish(&cfg.padding)?)
}

// ---- nodes every machine shares -------------------------------------------------

/// `/memory@0`: one bank of `cfg.memory` bytes at address 0, two address and two size
/// cells (the root's `#address-cells`/`#size-cells` on every machine here).
pub(crate) fn write_memory(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let node = w.begin_node("memory@0")?;
    w.property_string("device_type", "memory")?;
    w.property_array_u64("reg", &[0, cfg.memory])?;
    w.end_node(node)?;
    Ok(())
}

/// `/chosen`: bootargs, the initrd range, the rng-seed and the console. The initrd addresses are one
/// cell each when they fit in 32 bits (what QEMU writes), two cells otherwise (Linux
/// `early_init_dt_check_for_initrd` reads either width).
pub(crate) fn write_chosen(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    let node = w.begin_node("chosen")?;
    if let Some(args) = &cfg.bootargs {
        w.property_string("bootargs", args)?;
    }
    if let Some(r) = cfg.initrd {
        match (u32::try_from(r.start), u32::try_from(r.end)) {
            (Ok(s), Ok(e)) => {
                w.property_u32("linux,initrd-start", s)?;
                w.property_u32("linux,initrd-end", e)?;
            }
            _ => {
                w.property_u64("linux,initrd-start", r.start)?;
                w.property_u64("linux,initrd-end", r.end)?;
            }
        }
    }
    if let Some(seed) = &cfg.rng_seed {
        w.property("rng-seed", seed)?;
    }
    if let Some(path) = cfg.effective_stdout_path() {
        // Both spellings: `stdout-path` is the DT spec's, `linux,stdout-path` the one
        // older PowerPC kernels read (QEMU writes both, hw/ppc/e500.c and spapr.c).
        w.property_string("stdout-path", path)?;
        w.property_string("linux,stdout-path", path)?;
    }
    w.end_node(node)?;
    Ok(())
}

/// The root properties the `/hypervisor` model owns (the ePAPR preset's
/// `epapr-version`); call while the root is open, before its first child.
pub(crate) fn write_hypervisor_root_properties(
    w: &mut FdtBuilder,
    cfg: &GuestConfig,
) -> Result<(), GenError> {
    if let Some(hv) = &cfg.hypervisor {
        hv.write_root_properties(w)?;
    }
    Ok(())
}

/// `/hypervisor`, when the config has one.
pub(crate) fn write_hypervisor(w: &mut FdtBuilder, cfg: &GuestConfig) -> Result<(), GenError> {
    if let Some(hv) = &cfg.hypervisor {
        hv.write(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fdt::Fdt;

    #[test]
    fn machine_names_round_trip() {
        for m in Machine::ALL {
            assert_eq!(m.name().parse::<Machine>().unwrap(), m);
        }
        assert!(matches!(
            "mac99".parse::<Machine>(),
            Err(GenError::UnknownMachine(_))
        ));
    }

    #[test]
    fn every_machine_generates_and_parses() {
        for m in Machine::ALL {
            let cfg = GuestConfig::new(m);
            let dtb = generate(&cfg).unwrap();
            let fdt = Fdt::new(&dtb).unwrap();
            assert!(fdt.find("/hypervisor").is_some(), "{m}");
            assert!(fdt.find("/memory@0").is_some(), "{m}");
            assert!(fdt.find("/chosen").is_some(), "{m}");
            assert!(fdt.find("/cpus").is_some(), "{m}");
            assert_eq!(generate(&cfg).unwrap(), dtb, "{m}: not deterministic");
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let mut c = GuestConfig::new(Machine::Ppce500);
        c.memory = 0;
        assert!(matches!(generate(&c), Err(GenError::BadMemory(0))));
        c.memory = 4097;
        assert!(matches!(generate(&c), Err(GenError::BadMemory(4097))));
        let mut c = GuestConfig::new(Machine::Ppce500);
        c.cpus = 33;
        assert!(matches!(
            generate(&c),
            Err(GenError::BadCpus { max: 32, .. })
        ));
        c.cpus = 0;
        assert!(matches!(generate(&c), Err(GenError::BadCpus { .. })));
        let mut c = GuestConfig::new(Machine::Ppce500);
        c.initrd = Some(InitrdRange { start: 10, end: 10 });
        assert!(matches!(generate(&c), Err(GenError::InitrdEmpty { .. })));
        c.initrd = Some(InitrdRange {
            start: 0,
            end: (128 << 20) + 1,
        });
        assert!(matches!(
            generate(&c),
            Err(GenError::InitrdOutsideMemory { .. })
        ));
        let mut c = GuestConfig::new(Machine::Ppce500);
        c.bootargs = Some("a\0b".into());
        assert!(matches!(
            generate(&c),
            Err(GenError::NulInString("bootargs"))
        ));
        c.bootargs = None;
        c.stdout_path = Some(String::new());
        assert!(matches!(generate(&c), Err(GenError::EmptyStdoutPath)));
    }

    #[test]
    fn memreserves_and_padding_reach_the_header() {
        let mut c = GuestConfig::new(Machine::Minimal);
        c.memreserves = vec![MemReserve {
            address: 0x100_0000,
            size: 0x1000,
        }];
        let plain = generate(&c).unwrap();
        c.padding.pad = Some(4096);
        let padded = generate(&c).unwrap();
        assert_eq!(padded.len(), plain.len() + 4096);
        let fdt = Fdt::new(&padded).unwrap();
        let rsv: Vec<(u64, u64)> = fdt.reservations().map(|r| (r.address, r.size)).collect();
        assert_eq!(rsv, vec![(0x100_0000, 0x1000)]);
    }

    #[test]
    fn initrd_cells_follow_the_address_width() {
        let mut c = GuestConfig::new(Machine::Minimal);
        c.memory = 8 << 30;
        c.initrd = Some(InitrdRange {
            start: 0x1_0000_0000,
            end: 0x1_0010_0000,
        });
        let dtb = generate(&c).unwrap();
        let fdt = Fdt::new(&dtb).unwrap();
        let chosen = fdt.find("/chosen").unwrap();
        let p = chosen.property("linux,initrd-start").unwrap();
        assert_eq!(p.value, &[0, 0, 0, 1, 0, 0, 0, 0]);
        c.initrd = Some(InitrdRange {
            start: 0x200_0000,
            end: 0x300_0000,
        });
        let dtb = generate(&c).unwrap();
        let fdt = Fdt::new(&dtb).unwrap();
        let p = fdt
            .find("/chosen")
            .unwrap()
            .property("linux,initrd-end")
            .unwrap();
        assert_eq!(p.value, &[3, 0, 0, 0]);
    }

    #[test]
    fn hosts_decide_the_node_and_unsafe_nodes_need_force() {
        use crate::dt::host::Host;
        let tcg = GuestConfig::for_host(Machine::Ppce500, Host::Tcg);
        assert_eq!(tcg.hypervisor, None);
        assert!(generate(&tcg).is_ok());
        // The KVM tree under TCG: refused, written with force.
        let mut c = GuestConfig::new(Machine::Ppce500);
        assert_eq!(c.host, Host::Kvm(HostProfile::E500v2));
        c.host = Host::Tcg;
        assert!(matches!(
            generate(&c),
            Err(GenError::WrongForHost {
                problem: HostProblem::NotTrapped { .. },
                ..
            })
        ));
        c.force = true;
        assert!(generate(&c).is_ok());
        // BookE-HV needs an e500mc-class CPU; pseries has no e500.
        let mut c = GuestConfig::for_host(Machine::Ppce500, Host::Kvm(HostProfile::BookeHv));
        assert!(matches!(
            generate(&c),
            Err(GenError::WrongForHost {
                problem: HostProblem::CpuNotRun { .. },
                ..
            })
        ));
        c.cpu = Some(Cpu::E5500);
        assert!(generate(&c).is_ok());
        let mut p = GuestConfig::for_host(Machine::Pseries, Host::Tcg);
        p.cpu = Some(Cpu::E500mc);
        assert!(matches!(
            generate(&p),
            Err(GenError::CpuNotOnMachine { .. })
        ));
    }

    #[test]
    fn rng_seed_power_off_and_cache_lines() {
        use crate::dt::host::Host;
        let mut c = GuestConfig::for_host(Machine::Ppce500, Host::Tcg);
        c.rng_seed = Some(alloc::vec![1, 2, 3]);
        c.power_off_gpio = true;
        c.cpu = Some(Cpu::E500mc);
        let dtb = generate(&c).unwrap();
        let fdt = Fdt::new(&dtb).unwrap();
        let chosen = fdt.find("/chosen").unwrap();
        assert_eq!(chosen.property("rng-seed").unwrap().value, &[1, 2, 3]);
        let off = fdt.find("/soc@fe0000000/power-off").unwrap();
        assert_eq!(
            off.property("compatible").unwrap().value,
            b"gpio-poweroff\0"
        );
        let cpu = fdt.find("/cpus/PowerPC,8544@0").unwrap();
        assert_eq!(
            cpu.property("d-cache-line-size").unwrap().value,
            &[0, 0, 0, 64]
        );
        c.rng_seed = Some(Vec::new());
        assert!(matches!(generate(&c), Err(GenError::EmptyRngSeed)));
    }

    #[test]
    fn kernel_load_reads_elf_headers_and_refuses_the_rest() {
        use super::ppce500::{KernelError, KernelLoad};
        assert_eq!(KernelLoad::from_elf(b"MZ"), Err(KernelError::NotElf));
        let mut elf = alloc::vec![0u8; 0x34];
        elf[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 2]);
        assert_eq!(KernelLoad::from_elf(&elf), Err(KernelError::NothingToLoad));
        elf[0x1c..0x20].copy_from_slice(&0x1000u32.to_be_bytes());
        elf[0x2c..0x2e].copy_from_slice(&1u16.to_be_bytes());
        elf[0x2a..0x2c].copy_from_slice(&0x20u16.to_be_bytes());
        assert_eq!(KernelLoad::from_elf(&elf), Err(KernelError::Truncated));
        // A small kernel still leaves the initrd above QEMU's 32 MiB floor.
        let k = KernelLoad {
            low: 0,
            size: 0x1000,
        };
        assert_eq!(
            k.initrd_range(16),
            Some(InitrdRange::new(0x400_0000, 0x400_0010))
        );
        let huge = KernelLoad {
            low: u64::MAX,
            size: 1,
        };
        assert_eq!(huge.initrd_range(1), None);
    }
}
