//! `ppcpv gen` (a complete guest DTB from options) and `ppcpv patch` (add, change or
//! remove the `/hypervisor` node of an existing DTB). Parsing only: the trees come from
//! `ppcpv::dt::machine` and `ppcpv::dt::patch`.

use super::CliError;
use super::hypervisor::FormatArg;
use super::treeopts::{LayoutOpts, NODE_ARG_IDS, NodeOpts};
use crate::cli::fileio::rule;
use clap::{Args, ValueEnum};
use ppcpv::dt::host::{Host, HostProblem};
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::machine::ppce500::KernelLoad;
use ppcpv::dt::machine::{self, Cpu, GenError, GuestConfig, InitrdRange, Machine, MemReserve};
use ppcpv::dt::patch::{Change, PatchError, PatchMode, PatchRequest};
use std::path::{Path, PathBuf};

/// Arguments of `ppcpv gen`.
#[derive(Debug, Args)]
#[command(after_help = "\
Hosts (--host): who will run the guest decides what the tree may say.
  tcg        QEMU without KVM (the default): no /hypervisor node, as QEMU writes none
             without KVM. Under TCG nothing traps a hypercall: a KVM node's `sc` is a
             system call from kernel mode and the guest panics.
  e500v2     KVM PR on an e500v2 host (legacy): kvm-pr words, has-idle.
  booke-hv   KVM BookE-HV on an e500mc/e5500/e6500 host: booke-hv words (sc 1),
             has-idle; needs --cpu e500mc, e5500 or e6500.
  book3s-pr  KVM PR on a Book3S host (pseries guests): kvm-pr words.
gen refuses (exit 2, with the reason) a node that would crash or stall the guest on
that host: words the host does not trap, a 64-bit instruction on a 32-bit CPU (QEMU's
qemu-fallback starts with tdi, illegal on e500v2), has-idle with words that can only
fail. --force writes it anyway.

Examples:
  ppcpv gen                                   # guest.dtb: ppce500, 128 MiB, 1 CPU, no KVM node
  ppcpv gen --kernel vmlinux --initrd initrd.gz --bootargs console=ttyS0 --power-off-gpio
  qemu-system-ppc -M ppce500 -m 128M -nographic -no-reboot -nic none \\
      -kernel vmlinux -initrd initrd.gz -dtb guest.dtb
  ppcpv gen --host e500v2 -o kvm.dtb           # for QEMU with -enable-kvm on an e500v2 host
  ppcpv gen --host booke-hv --cpu e5500 --format dts -o -
  ppcpv gen --machine pseries --host book3s-pr --pad 4096 -o pseries.dtb

QEMU's -m, -smp and -cpu must match --mem, --cpus and --cpu, and -kernel/-initrd the
files given to --kernel/--initrd: QEMU hands a -dtb tree to the guest untouched.")]
pub struct GenArgs {
    /// The board the tree describes.
    #[arg(long, value_enum, default_value_t = MachineArg::Ppce500)]
    pub machine: MachineArg,

    /// Who runs the guest: tcg (QEMU without KVM: no /hypervisor node), or the KVM
    /// host kind book3s-pr, e500v2 or booke-hv (a node with the words it traps).
    #[arg(long, value_name = "HOST", default_value = "tcg", value_parser = parse_host)]
    pub host: Host,

    /// ppce500 CPU model, as QEMU's -cpu (e500v2, e500mc, e5500, e6500; e5500 and
    /// e6500 need qemu-system-ppc64). Default: e500v2.
    #[arg(long, value_name = "CPU", value_parser = parse_cpu)]
    pub cpu: Option<Cpu>,

    /// Write the tree even when its /hypervisor node is wrong for --host.
    #[arg(long)]
    pub force: bool,

    /// RAM size, one bank at address 0 (K/M/G suffixes). Default: QEMU's default for
    /// the machine (ppce500 and minimal 128M, pseries 512M).
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size)]
    pub mem: Option<u64>,

    /// Number of CPUs (ppce500: 1-32; CPU 0 boots, the others wait on the spin table).
    #[arg(long, value_name = "N", value_parser = super::parse_u32, default_value = "1")]
    pub cpus: u32,

    /// Kernel command line (/chosen/bootargs); a Linux guest on ppce500 wants
    /// console=ttyS0.
    #[arg(long, value_name = "TEXT")]
    pub bootargs: Option<String>,

    /// ppce500: the ELF kernel QEMU will load with -kernel (no -bios); with --initrd,
    /// /chosen gets the initrd range exactly where QEMU 7.2 loads it.
    #[arg(long, value_name = "FILE", requires = "initrd")]
    pub kernel: Option<PathBuf>,

    /// ppce500: the initrd QEMU will load with -initrd (only its size is read).
    #[arg(long, value_name = "FILE", requires = "kernel", conflicts_with_all = ["initrd_start", "initrd_end"])]
    pub initrd: Option<PathBuf>,

    /// Physical address of an initrd already in guest memory (/chosen/linux,initrd-start).
    #[arg(long, value_name = "ADDR", value_parser = super::parse_u64, requires = "initrd_end")]
    pub initrd_start: Option<u64>,

    /// One past its last byte (/chosen/linux,initrd-end).
    #[arg(long, value_name = "ADDR", value_parser = super::parse_u64, requires = "initrd_start")]
    pub initrd_end: Option<u64>,

    /// Console path for /chosen/stdout-path (default: the machine's serial port or vty).
    #[arg(long, value_name = "PATH")]
    pub stdout_path: Option<String>,

    /// /chosen/rng-seed as hex bytes (reproducible output). Default: 32 fresh random
    /// bytes per run, as QEMU writes per boot.
    #[arg(long, value_name = "HEX", value_parser = parse_seed)]
    pub rng_seed: Option<Seed>,

    /// Write no rng-seed.
    #[arg(long, conflicts_with = "rng_seed")]
    pub no_rng_seed: bool,

    /// Write no /hypervisor node at all, whatever the host.
    #[arg(long, conflicts_with_all = NODE_ARG_IDS)]
    pub no_hypervisor: bool,

    /// Reserve ADDR,SIZE in the header's memory reservation map; repeatable.
    #[arg(long, value_name = "ADDR,SIZE", value_parser = parse_memreserve)]
    pub memreserve: Vec<MemReserve>,

    /// ppce500: add QEMU's GPIO power-off node inside the soc node, where Linux binds
    /// it (the guest can power off). Off by default because dtc 1.6.1 warns about it
    /// (simple_bus_reg, gpios_property).
    #[arg(long)]
    pub power_off_gpio: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Dtb)]
    pub format: FormatArg,

    /// Output file; `-` is standard output (a DTB is refused on a terminal). Default:
    /// guest.dtb (guest.dts with --format dts), the one command with a default file.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub node: NodeOpts,

    #[command(flatten)]
    pub layout: LayoutOpts,
}

/// `--machine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MachineArg {
    /// QEMU's ppce500 board (e500 cores, MPC8544-style CCSR, PCI; U-Boot and Linux boot it).
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

fn parse_host(s: &str) -> Result<Host, String> {
    s.parse::<Host>().map_err(|e| e.to_string())
}

fn parse_cpu(s: &str) -> Result<Cpu, String> {
    s.parse::<Cpu>().map_err(|e| e.to_string())
}

/// `--rng-seed` bytes (a newtype, so clap takes one value rather than a list of bytes).
#[derive(Debug, Clone)]
pub struct Seed(Vec<u8>);

fn parse_seed(s: &str) -> Result<Seed, String> {
    // Bytes, not a number: hex digits only, after an optional 0x or 0X.
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return Err(format!("'{s}': expected an even number of hex digits"));
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("'{s}': not hex"))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(Seed)
}

fn parse_memreserve(s: &str) -> Result<MemReserve, String> {
    let (addr, size) = s
        .split_once(',')
        .ok_or_else(|| format!("'{s}': expected ADDR,SIZE"))?;
    Ok(MemReserve::new(
        super::parse_u64(addr)?,
        super::parse_size(size)?,
    ))
}

/// 32 bytes from the OS's random source, like QEMU's `qemu_guest_getrandom_nofail`.
fn random_seed() -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let mut seed = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| {
            CliError::failed(format!(
                "/dev/urandom: {e} (give --rng-seed HEX or --no-rng-seed)"
            ))
        })?;
    Ok(seed)
}

/// The initrd range QEMU 7.2's ppce500 uses for `-kernel kernel -initrd initrd`.
fn initrd_from_files(kernel: &Path, initrd: &Path) -> Result<InitrdRange, CliError> {
    let read_err = |p: &Path, e: std::io::Error| CliError::failed(format!("{}: {e}", p.display()));
    let size = std::fs::metadata(initrd)
        .map_err(|e| read_err(initrd, e))?
        .len();
    let image = std::fs::read(kernel).map_err(|e| read_err(kernel, e))?;
    let load = KernelLoad::from_elf(&image).map_err(|e| {
        CliError::usage(format!(
            "{}: {e} (QEMU's ppce500 loads an ELF kernel; give --initrd-start/--initrd-end instead)",
            kernel.display()
        ))
    })?;
    load.initrd_range(size).ok_or_else(|| {
        CliError::usage(format!(
            "{}: kernel too large to place an initrd",
            kernel.display()
        ))
    })
}

impl GenArgs {
    /// The guest config these options describe.
    fn config(&self) -> Result<GuestConfig, CliError> {
        let machine = Machine::from(self.machine);
        let mut cfg = GuestConfig::for_host(machine, self.host);
        cfg.cpu = self.cpu;
        cfg.force = self.force;
        if let Some(m) = self.mem {
            cfg.memory = m;
        }
        cfg.cpus = self.cpus;
        cfg.bootargs.clone_from(&self.bootargs);
        if let (Some(start), Some(end)) = (self.initrd_start, self.initrd_end) {
            cfg.initrd = Some(InitrdRange::new(start, end));
        }
        if let (Some(kernel), Some(initrd)) = (&self.kernel, &self.initrd) {
            if machine != Machine::Ppce500 {
                return Err(CliError::usage(
                    "--kernel/--initrd place the initrd as QEMU's ppce500 does; for other machines give --initrd-start/--initrd-end",
                ));
            }
            cfg.initrd = Some(initrd_from_files(kernel, initrd)?);
        }
        cfg.stdout_path.clone_from(&self.stdout_path);
        cfg.rng_seed = if self.no_rng_seed {
            None
        } else if let Some(Seed(seed)) = &self.rng_seed {
            Some(seed.clone())
        } else {
            Some(random_seed()?)
        };
        let idle = machine.default_has_idle();
        let n = &self.node;
        // Any option that says what the node holds asks for one (under tcg too);
        // --no-has-idle alone only changes a node the host gets anyway.
        let wants_node = n.flavour.is_some()
            || n.hcall.is_some()
            || n.has_idle
            || !n.compatible.is_empty()
            || n.guest_id.is_some()
            || n.guest_name.is_some();
        cfg.hypervisor = if self.no_hypervisor {
            None
        } else if wants_node {
            self.host
                .node(Some(n.flavour().unwrap_or(Flavour::Kvm)), idle)
        } else {
            self.host.node(None, idle)
        };
        if let Some(hv) = &mut cfg.hypervisor {
            n.apply(hv);
        }
        cfg.memreserves.clone_from(&self.memreserve);
        cfg.power_off_gpio = self.power_off_gpio;
        cfg.padding = self.layout.padding();
        Ok(cfg)
    }
}

/// Runs `ppcpv gen`.
pub fn run_gen(a: GenArgs) -> Result<(), CliError> {
    // The one command with a default file: the README's first command writes guest.dtb.
    let output = a.output.clone().unwrap_or_else(|| {
        PathBuf::from(match a.format {
            FormatArg::Dtb => "guest.dtb",
            FormatArg::Dts => "guest.dts",
        })
    });
    if a.format == FormatArg::Dtb {
        rule::check_binary(&output)?;
    }
    let cfg = a.config()?;
    // Every refusal of the generator is about the options given.
    let dtb = machine::generate(&cfg).map_err(|e| match e {
        GenError::WrongForHost {
            host: Host::Tcg,
            problem: HostProblem::NotTrapped { .. },
        } => CliError::usage(format!(
            "{e} (for QEMU with KVM, name the host: --host e500v2|booke-hv|book3s-pr; --force writes it anyway)"
        )),
        GenError::WrongForHost { .. } => CliError::usage(format!("{e} (--force writes it anyway)")),
        // Not the options' fault but the machine's: a failure, exit 1.
        GenError::Writer(ppcpv::fdt::writer::WriteError::OutOfMemory { .. }) => {
            CliError::failed(e.to_string())
        }
        other => CliError::usage(other.to_string()),
    })?;
    super::hypervisor::write_tree(&dtb, a.format, &output)
}

/// Arguments of `ppcpv patch`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ppcpv patch board.dtb -o board-kvm.dtb            # add a KVM /hypervisor node
  ppcpv patch board.dtb > board-kvm.dtb             # the same, through stdout
  ppcpv patch guest.dtb -o guest.dtb --hcall booke-hv --no-has-idle
  ppcpv patch xen.dtb -o kvm.dtb --replace --flavour kvm --has-idle
  ppcpv patch guest.dtb -o plain.dtb --remove

Without --replace or --remove: a missing node is added (the flavour's preset, default
kvm, changed by the options given); an existing KVM or ePAPR node gets only the
properties named by the options, the others stay. Everything outside /hypervisor
keeps its bytes and order. A node that is neither KVM nor ePAPR (Xen's, for
instance) changes only with --replace.")]
pub struct PatchArgs {
    /// The DTB to patch, or DTS source (compiled first, as dtc would); `-` reads stdin.
    #[arg(value_name = "IN")]
    pub input: PathBuf,

    /// Where to write the result (may be IN itself when IN is a blob; written
    /// atomically). Default: standard output, refused on a terminal.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// Rebuild the node from the options alone (the preset plus what they set),
    /// whatever node is there now.
    #[arg(long, conflicts_with = "remove")]
    pub replace: bool,

    /// Delete the node.
    #[arg(long, conflicts_with_all = NODE_ARG_IDS, conflicts_with = "host")]
    pub remove: bool,

    /// Make the node right for who runs the guest: tcg (QEMU without KVM: words that
    /// fail every call, no has-idle) or the KVM host kind book3s-pr, e500v2 or
    /// booke-hv (its words, unless --hcall), and refuse words that would crash or
    /// stall the guest there (the CPU read from the tree; e500 trees are judged as
    /// 32-bit).
    #[arg(long, value_name = "HOST", value_parser = parse_host)]
    pub host: Option<Host>,

    /// With --host: write the result even when it is wrong for that host.
    #[arg(long, requires = "host")]
    pub force: bool,

    #[command(flatten)]
    pub node: NodeOpts,

    #[command(flatten)]
    pub layout: LayoutOpts,
}

impl PatchArgs {
    fn request(&self) -> PatchRequest {
        let mut req = self.options();
        // --host picks the words (and, under tcg, drops has-idle) the options leave open.
        if let Some(host) = self.host
            && req.mode != PatchMode::Remove
        {
            if req.hcall.is_none() {
                req.hcall = host
                    .node(Some(req.flavour.unwrap_or(Flavour::Kvm)), false)
                    .and_then(|n| n.hcall);
            }
            if host == Host::Tcg && req.has_idle.is_none() {
                req.has_idle = Some(false);
            }
        }
        req
    }

    fn options(&self) -> PatchRequest {
        let mut req = PatchRequest::new(if self.remove {
            PatchMode::Remove
        } else if self.replace {
            PatchMode::Replace
        } else {
            PatchMode::Set
        });
        let n = &self.node;
        req.flavour = n.flavour();
        req.hcall = n.hcall;
        req.has_idle = n.has_idle();
        req.compatible = (!n.compatible.is_empty()).then(|| n.compatible.clone());
        req.guest_id = n.guest_id;
        req.guest_name.clone_from(&n.guest_name);
        req
    }
}

/// Runs `ppcpv patch`.
pub fn run_patch(a: PatchArgs) -> Result<(), CliError> {
    let output = rule::dest(a.output.as_deref());
    rule::check_binary(&output)?;
    let req = a.request();
    let patched = {
        let input = crate::cli::input::read_tree(&a.input)?;
        if input.from_source {
            // The result is a blob; writing it over the source would lose the text.
            super::refuse_output_over_input(&a.input, &output)?;
        }
        req.apply(&input.blob).map_err(|e| match e {
            // The blob is fine; the request needs --replace or builds no valid node.
            PatchError::Foreign { .. } | PatchError::Node(_) => CliError::usage(e.to_string()),
            // Name the file, as inspect, dump and get do.
            other => CliError::failed(format!("{}: {other}", a.input.display())),
        })?
        // The input mapping ends here, before the output (maybe the same file) is
        // replaced.
    };
    if let Some(host) = a.host
        && !a.force
    {
        let problems = ppcpv::fdt::Fdt::new(&patched.blob)
            .ok()
            .and_then(|fdt| {
                let node = HypervisorNode::from_fdt(&fdt).ok()??;
                // The CPU read from a tree is a guess (QEMU's e6500 tree reads as an
                // e500v2 one), so only the words are judged, not the host/CPU pairing.
                let mut p = ppcpv::dt::host::check(host, &node, Cpu::from_fdt(&fdt));
                p.retain(|p| !matches!(p, HostProblem::CpuNotRun { .. }));
                Some(p)
            })
            .unwrap_or_default();
        if let Some(p) = problems.first() {
            return Err(CliError::usage(format!(
                "not right for host {host}: {p} (--force writes it anyway)"
            )));
        }
    }
    let blob = if a.layout.any() {
        let fdt = ppcpv::fdt::Fdt::new(&patched.blob)?;
        ppcpv::fdt::edit::relayout(&fdt, &a.layout.padding()).map_err(|e| match e {
            ppcpv::fdt::edit::RelayoutError::Padding(_) => CliError::usage(e.to_string()),
            other => CliError::failed(other.to_string()),
        })?
    } else {
        patched.blob
    };
    // One line either way: `ppcpv: wrote OUT: nothing to change in IN` for a copy.
    let detail = (patched.change == Change::Unchanged && !a.layout.any())
        .then(|| format!("nothing to change in {}", a.input.display()));
    rule::write_blob(&output, &blob, detail.as_deref())
}
