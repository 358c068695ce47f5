//! `ppcpv hypervisor`: write a minimal DTB (or DTS) holding the root and a
//! `/hypervisor` node, from a flavour preset, explicit values or a host's
//! `KVM_PPC_GET_PVINFO` answer. Parsing only; the node comes from `ppcpv::dt`.

use super::{CliError, EndianArg};
use clap::{Args, ValueEnum};
use ppcpv::dt::hypervisor::{Flavour, HcallInstructions, HypervisorNode};
use ppcpv::dt::pvinfo::{KvmPpcPvinfo, PVINFO_SIZE, PvinfoOrder};
use ppcpv::fdt::writer::Padding;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `ppcpv hypervisor`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ppcpv hypervisor --flavour kvm --has-idle -o hv.dtb
  ppcpv hypervisor --flavour kvm --hcall booke-hv --format dts
  ppcpv hypervisor --flavour kvm --has-idle --format dtbo -o hv.dtbo
  ppcpv hypervisor --hcall 0x44000022,0x60000000 --compatible linux,kvm -o -
  ppcpv hypervisor --pvinfo pvinfo.bin --endian little -o hv.dtb
  ppcpv hypervisor --flavour epapr --guest-name linux1 --format dts")]
pub struct HypervisorArgs {
    /// Preset, kvm when not given: `kvm` (QEMU/KVM: "linux,kvm", the kvm-pr sequence) or
    /// `epapr` (Topaz: ePAPR compatibles, `sc 1`, guest-id, guest-name, fsl,hv-version,
    /// root epapr-version). The other options change the preset.
    #[arg(long, value_enum)]
    pub flavour: Option<FlavourArg>,

    /// hcall-instructions: a sequence name (kvm-pr, booke-hv, epapr, qemu-fallback,
    /// qemu-fallback-old) or 1-4 32-bit words separated by commas (0x44000022,0x60000000).
    /// Written exactly as given: never padded to four words.
    #[arg(long, value_name = "SEQ", value_parser = parse_hcall)]
    pub hcall: Option<HcallInstructions>,

    /// Add the empty has-idle property (the guest may use EV_IDLE).
    #[arg(long)]
    pub has_idle: bool,

    /// A compatible entry; repeat for a list. Replaces the preset's list.
    #[arg(long, value_name = "S", value_parser = parse_compatible)]
    pub compatible: Vec<String>,

    /// epapr: the guest-id value (decimal or 0x hex).
    #[arg(long, value_name = "N", value_parser = super::parse_u32)]
    pub guest_id: Option<u32>,

    /// epapr: the guest-name value.
    #[arg(long, value_name = "S", value_parser = parse_compatible)]
    pub guest_name: Option<String>,

    /// Build the node from a 128-byte struct kvm_ppc_pvinfo (what the KVM_PPC_GET_PVINFO
    /// ioctl returns): its words become hcall-instructions, its EV_IDLE flag has-idle.
    #[arg(long, value_name = "FILE")]
    pub pvinfo: Option<PathBuf>,

    /// --pvinfo: byte order of the host that produced it (the flags field).
    #[arg(long, value_enum, default_value_t = EndianArg::Big)]
    pub endian: EndianArg,

    /// --pvinfo: the hcall words are in host order (kernels before the cpu_to_be32
    /// change) instead of big-endian.
    #[arg(long)]
    pub legacy_pvinfo: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = HvFormatArg::Dtb)]
    pub format: HvFormatArg,

    /// Add N zero bytes of free space to the DTB, like `dtc -p N`.
    #[arg(long, value_name = "N", value_parser = super::parse_u32, conflicts_with = "space")]
    pub pad: Option<u32>,

    /// Make the DTB at least N bytes (free space at the end), like `dtc -S N`.
    #[arg(long, value_name = "N", value_parser = super::parse_u32)]
    pub space: Option<u32>,

    /// Round the DTB's size up to a multiple of N (a power of two), like `dtc -a N`.
    #[arg(long, value_name = "N", value_parser = super::parse_u32)]
    pub align: Option<u32>,

    /// Output file; `-` is stdout.
    #[arg(short, long, value_name = "FILE", default_value = "-")]
    pub output: PathBuf,
}

/// `--flavour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlavourArg {
    /// QEMU/KVM style.
    Kvm,
    /// Topaz (ePAPR) style.
    Epapr,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A flattened device tree blob.
    Dtb,
    /// DTS text, as `dtc -I dtb -O dts` prints it.
    Dts,
}

/// `ppcpv hypervisor --format`: [`FormatArg`] plus an overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HvFormatArg {
    /// A flattened device tree blob.
    Dtb,
    /// DTS text, as `dtc -I dtb -O dts` prints it.
    Dts,
    /// An overlay adding the node to any tree's root (apply with `ppcpv overlay` or
    /// fdtoverlay); the node only, as `ppcpv patch` adds it.
    Dtbo,
}

fn parse_hcall(s: &str) -> Result<HcallInstructions, String> {
    s.parse::<HcallInstructions>().map_err(|e| e.to_string())
}

fn parse_compatible(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".to_owned())
    } else if s.contains('\0') {
        Err("must not contain a NUL byte".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// Runs `ppcpv hypervisor`.
pub fn run(a: HypervisorArgs) -> Result<(), CliError> {
    let mut node = match (&a.pvinfo, a.flavour) {
        (Some(_), Some(FlavourArg::Epapr)) => {
            return Err(CliError::usage(
                "--pvinfo describes a KVM host; it builds a kvm-flavour node, not epapr",
            ));
        }
        (Some(path), _) => {
            super::refuse_output_over_input(path, &a.output)?;
            let input = crate::cli::fileio::read_input(path, PVINFO_SIZE as u64 + 1)?;
            let host = ppcpv::Endian::from(a.endian);
            let order = if a.legacy_pvinfo {
                PvinfoOrder::legacy(host)
            } else {
                PvinfoOrder::current(host)
            };
            KvmPpcPvinfo::from_bytes(&input, order)
                .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?
                .to_node()
        }
        (None, f) => HypervisorNode::preset(match f.unwrap_or(FlavourArg::Kvm) {
            FlavourArg::Kvm => Flavour::Kvm,
            FlavourArg::Epapr => Flavour::Epapr,
        }),
    };
    if let Some(h) = a.hcall {
        node.hcall = Some(h);
    }
    if a.has_idle {
        node.has_idle = true;
    }
    if !a.compatible.is_empty() {
        node.compatible = a.compatible;
    }
    if a.guest_id.is_some() {
        node.guest_id = a.guest_id;
    }
    if a.guest_name.is_some() {
        node.guest_name = a.guest_name;
    }
    let padding = Padding {
        pad: a.pad,
        space: a.space,
        align: a.align,
    };
    let format = match a.format {
        HvFormatArg::Dtbo => {
            let dtbo = node
                .to_overlay(&padding)
                .map_err(|e| CliError::usage(e.to_string()))?;
            crate::cli::fileio::write_atomic(&a.output, &dtbo)?;
            return Ok(());
        }
        HvFormatArg::Dtb => FormatArg::Dtb,
        HvFormatArg::Dts => FormatArg::Dts,
    };
    let dtb = node
        .to_minimal_dtb(&padding)
        .map_err(|e| CliError::usage(e.to_string()))?;

    write_tree(&dtb, format, &a.output)
}

/// Writes a finished blob to `output` (`-` for stdout, else atomically) as DTB, or as
/// DTS text through the reader and the dtc-identical printer.
///
/// # Errors
/// I/O errors, or (never for ppcpv's own blobs) a blob the reader refuses.
pub fn write_tree(dtb: &[u8], format: FormatArg, output: &std::path::Path) -> Result<(), CliError> {
    let mut out = crate::cli::fileio::Output::create(output)?;
    match format {
        FormatArg::Dtb => out.write_all(dtb)?,
        FormatArg::Dts => {
            let fdt = ppcpv::fdt::Fdt::new(dtb)?;
            ppcpv::fdt::dts::write_dts(&fdt, &mut out, &ppcpv::fdt::dts::DtsOptions::default())?;
        }
    }
    out.finish()?;
    Ok(())
}
