//! `ppcpv gen` (a complete guest DTB from options) and `ppcpv patch` (add, change or
//! remove the `/hypervisor` node of an existing DTB). Parsing only: the trees come from
//! `ppcpv::dt::machine` and `ppcpv::dt::patch`.

use super::CliError;
use super::hypervisor::{FlavourArg, FormatArg};
use clap::{Args, ValueEnum};
use ppcpv::dt::hypervisor::{Flavour, HcallInstructions};
use ppcpv::dt::machine::{self, GuestConfig, InitrdRange, Machine, MemReserve};
use ppcpv::dt::patch::{Change, PatchError, PatchMode, PatchRequest};
use ppcpv::fdt::writer::Padding;
use std::path::PathBuf;

/// Arguments of `ppcpv gen`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ppcpv gen                                   # guest.dtb: ppce500, 128 MiB, 1 CPU, KVM (kvm-pr, has-idle)
  qemu-system-ppc -M ppce500 -m 128M -nographic \\
      -bios /usr/lib/u-boot/qemu-ppce500/uboot.elf -dtb guest.dtb
  ppcpv gen --mem 512M --cpus 2 --bootargs 'console=ttyS0' -o guest512.dtb
  ppcpv gen --hcall booke-hv --format dts -o -
  ppcpv gen --machine pseries --no-hypervisor --pad 4096 -o pseries.dtb

QEMU's -m and -smp must match --mem and --cpus: U-Boot sizes RAM from the DTB and
hangs when the DTB claims more memory than QEMU gives.")]
pub struct GenArgs {
    /// The board the tree describes.
    #[arg(long, value_enum, default_value_t = MachineArg::Ppce500)]
    pub machine: MachineArg,

    /// RAM size, one bank at address 0 (K/M/G suffixes). Default: QEMU's default for
    /// the machine (ppce500 and minimal 128M, pseries 512M).
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
    pub mem: Option<u64>,

    /// Number of CPUs (ppce500: 1-32; CPU 0 boots, the others wait on the spin table).
    #[arg(long, value_name = "N", value_parser = super::parse_u32, default_value = "1")]
    pub cpus: u32,

    /// Kernel command line (/chosen/bootargs).
    #[arg(long, value_name = "TEXT")]
    pub bootargs: Option<String>,

    /// Physical address of an initrd already in guest memory (/chosen/linux,initrd-start).
    #[arg(long, value_name = "ADDR", value_parser = super::parse_u64, requires = "initrd_end")]
    pub initrd_start: Option<u64>,

    /// One past its last byte (/chosen/linux,initrd-end).
    #[arg(long, value_name = "ADDR", value_parser = super::parse_u64, requires = "initrd_start")]
    pub initrd_end: Option<u64>,

    /// Console path for /chosen/stdout-path (default: the machine's serial port or vty).
    #[arg(long, value_name = "PATH")]
    pub stdout_path: Option<String>,

    /// /hypervisor flavour: `kvm` ("linux,kvm", default) or `epapr` (Topaz style).
    #[arg(long, value_enum)]
    pub flavour: Option<FlavourArg>,

    /// hcall-instructions: a sequence name (kvm-pr, booke-hv, epapr, qemu-fallback,
    /// qemu-fallback-old) or 1-4 comma-separated 32-bit words. Default: the flavour's.
    #[arg(long, value_name = "SEQ", value_parser = parse_hcall)]
    pub hcall: Option<HcallInstructions>,

    /// Write has-idle (default for ppce500 and minimal with the kvm flavour).
    #[arg(long, overrides_with = "no_has_idle")]
    pub has_idle: bool,

    /// Leave has-idle out (default for pseries and the epapr flavour).
    #[arg(long, overrides_with = "has_idle")]
    pub no_has_idle: bool,

    /// Write no /hypervisor node at all.
    #[arg(long, conflicts_with_all = ["flavour", "hcall", "has_idle", "no_has_idle"])]
    pub no_hypervisor: bool,

    /// Reserve ADDR,SIZE in the header's memory reservation map; repeatable.
    #[arg(long, value_name = "ADDR,SIZE", value_parser = parse_memreserve)]
    pub memreserve: Vec<MemReserve>,

    /// Add N zero bytes of free space after the blob, like `dtc -p N`, so a bootloader
    /// can edit it in place. (U-Boot on ppce500 maps the DTB with one 1 MiB TLB entry:
    /// keep the whole blob well below 1 MiB.)
    #[arg(long, value_name = "N", value_parser = super::parse_u32)]
    pub pad: Option<u32>,

    /// ppce500: add QEMU's GPIO power-off node (/power-off). Off by default because dtc
    /// 1.6.1 warns (gpios_property) when it recompiles the decompiled tree.
    #[arg(long)]
    pub power_off_gpio: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Dtb)]
    pub format: FormatArg,

    /// Output file; `-` is stdout. Default: guest.dtb (guest.dts with --format dts).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--machine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MachineArg {
    /// QEMU's ppce500 board (e500v2, MPC8544-style CCSR, PCI, U-Boot boots it).
    Ppce500,
    /// A minimal PAPR guest (POWER9 CPUs, XICS, VIO console).
    Pseries,
    /// Root, cpus, memory, chosen and /hypervisor only.
    Minimal,
}

impl From<MachineArg> for Machine {
    fn from(m: MachineArg) -> Self {
        match m {
            MachineArg::Ppce500 => Machine::Ppce500,
            MachineArg::Pseries => Machine::Pseries,
            MachineArg::Minimal => Machine::Minimal,
        }
    }
}

fn flavour(f: FlavourArg) -> Flavour {
    match f {
        FlavourArg::Kvm => Flavour::Kvm,
        FlavourArg::Epapr => Flavour::Epapr,
    }
}

fn parse_hcall(s: &str) -> Result<HcallInstructions, String> {
    s.parse::<HcallInstructions>().map_err(|e| e.to_string())
}

fn parse_memreserve(s: &str) -> Result<MemReserve, String> {
    let (addr, size) = s
        .split_once(',')
        .ok_or_else(|| format!("'{s}': expected ADDR,SIZE"))?;
    Ok(MemReserve {
        address: super::parse_u64(addr)?,
        size: super::parse_size(size)?,
    })
}

impl GenArgs {
    /// The guest config these options describe.
    fn config(&self) -> GuestConfig {
        let machine = Machine::from(self.machine);
        let mut cfg = GuestConfig::new(machine);
        if let Some(m) = self.mem {
            cfg.memory = m;
        }
        cfg.cpus = self.cpus;
        cfg.bootargs.clone_from(&self.bootargs);
        if let (Some(start), Some(end)) = (self.initrd_start, self.initrd_end) {
            cfg.initrd = Some(InitrdRange { start, end });
        }
        cfg.stdout_path.clone_from(&self.stdout_path);
        cfg.hypervisor = if self.no_hypervisor {
            None
        } else {
            let f = self.flavour.map_or(Flavour::Kvm, flavour);
            let mut hv = machine::default_hypervisor(machine, f);
            if let Some(h) = self.hcall {
                hv.hcall = Some(h);
            }
            if self.has_idle {
                hv.has_idle = true;
            }
            if self.no_has_idle {
                hv.has_idle = false;
            }
            Some(hv)
        };
        cfg.memreserves.clone_from(&self.memreserve);
        cfg.power_off_gpio = self.power_off_gpio;
        cfg.padding = Padding {
            pad: self.pad,
            ..Padding::NONE
        };
        cfg
    }
}

/// Runs `ppcpv gen`.
pub fn run_gen(a: GenArgs) -> Result<(), CliError> {
    let cfg = a.config();
    // Every refusal of the generator is about the options given.
    let dtb = machine::generate(&cfg).map_err(|e| CliError::usage(e.to_string()))?;
    let output = a.output.unwrap_or_else(|| {
        PathBuf::from(match a.format {
            FormatArg::Dtb => "guest.dtb",
            FormatArg::Dts => "guest.dts",
        })
    });
    super::hypervisor::write_tree(&dtb, a.format, &output)
}

/// Arguments of `ppcpv patch`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ppcpv patch board.dtb -o board-kvm.dtb                     # add a KVM /hypervisor node
  ppcpv patch guest.dtb -o guest.dtb --hcall booke-hv --no-has-idle
  ppcpv patch xen.dtb -o kvm.dtb --replace --flavour kvm --has-idle
  ppcpv patch guest.dtb -o plain.dtb --remove

Without --replace or --remove: a missing node is added (the flavour's preset, default
kvm, changed by the options given); an existing KVM or ePAPR node gets only the
properties named by the options, the others stay. Everything outside /hypervisor
keeps its bytes and order. A node that is neither KVM nor ePAPR (Xen's, for
instance) changes only with --replace.")]
pub struct PatchArgs {
    /// The DTB to patch; `-` reads stdin.
    #[arg(value_name = "IN")]
    pub input: PathBuf,

    /// Where to write the result (may be IN itself; written atomically); `-` is stdout.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,

    /// Set compatible to the flavour's (`kvm`: "linux,kvm"; `epapr`: the Topaz pair);
    /// for a new or replaced node, the preset to start from.
    #[arg(long, value_enum)]
    pub flavour: Option<FlavourArg>,

    /// Set hcall-instructions: a sequence name (kvm-pr, booke-hv, epapr, qemu-fallback,
    /// qemu-fallback-old) or 1-4 comma-separated 32-bit words.
    #[arg(long, value_name = "SEQ", value_parser = parse_hcall)]
    pub hcall: Option<HcallInstructions>,

    /// Add has-idle.
    #[arg(long, overrides_with = "no_has_idle")]
    pub has_idle: bool,

    /// Remove has-idle.
    #[arg(long, overrides_with = "has_idle")]
    pub no_has_idle: bool,

    /// Rebuild the node from the options alone (the preset plus what they set),
    /// whatever node is there now.
    #[arg(long, conflicts_with = "remove")]
    pub replace: bool,

    /// Delete the node.
    #[arg(long, conflicts_with_all = ["flavour", "hcall", "has_idle", "no_has_idle"])]
    pub remove: bool,
}

impl PatchArgs {
    fn request(&self) -> PatchRequest {
        let mut req = PatchRequest::new(if self.remove {
            PatchMode::Remove
        } else if self.replace {
            PatchMode::Replace
        } else {
            PatchMode::Set
        });
        req.flavour = self.flavour.map(flavour);
        req.hcall = self.hcall;
        req.has_idle = if self.has_idle {
            Some(true)
        } else if self.no_has_idle {
            Some(false)
        } else {
            None
        };
        req
    }
}

/// Runs `ppcpv patch`.
pub fn run_patch(a: PatchArgs) -> Result<(), CliError> {
    let req = a.request();
    let patched = {
        let input = ppcpv::fdt::input::read_dtb(&a.input)?;
        req.apply(&input).map_err(|e| match e {
            // The blob is fine; the request needs --replace or builds no valid node.
            PatchError::Foreign { .. } | PatchError::Node(_) => CliError::usage(e.to_string()),
            // Name the file, as inspect, dump and get do.
            other => CliError::failed(format!("{}: {other}", a.input.display())),
        })?
        // The input mapping ends here, before the output (maybe the same file) is
        // replaced.
    };
    if patched.change == Change::Unchanged {
        eprintln!("ppcpv: {}: nothing to change", a.input.display());
    }
    ppcpv::fileio::write_atomic(&a.output, &patched.blob)?;
    Ok(())
}
