//! `ppcpv hypervisor`: write a minimal DTB (or DTS) holding the root and a
//! `/hypervisor` node, from a flavour preset, explicit values or a host's
//! `KVM_PPC_GET_PVINFO` answer. Parsing only; the node comes from `ppcpv::dt`.

use super::treeopts::{LayoutOpts, NodeOpts};
use super::{CliError, EndianArg};
use crate::cli::fileio::rule;
use clap::{Args, ValueEnum};
use ppcpv::dt::hypervisor::{Flavour, HypervisorNode};
use ppcpv::dt::pvinfo::{KvmPpcPvinfo, PVINFO_SIZE, PvinfoOrder};
use std::path::PathBuf;

/// Arguments of `ppcpv hypervisor`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ppcpv hypervisor --flavour kvm --has-idle -o hv.dtb
  ppcpv hypervisor --flavour kvm --hcall booke-hv --format dts
  ppcpv hypervisor --flavour kvm --has-idle --format dtbo -o hv.dtbo
  ppcpv hypervisor --hcall 0x44000022,0x60000000 --compatible linux,kvm > hv.dtb
  ppcpv hypervisor --pvinfo pvinfo.bin --endian little -o hv.dtb
  ppcpv hypervisor --flavour epapr --guest-name linux1 --format dts")]
pub struct HypervisorArgs {
    /// Build the node from a 128-byte struct kvm_ppc_pvinfo (what the KVM_PPC_GET_PVINFO
    /// ioctl returns): its words become hcall-instructions, its EV_IDLE flag has-idle.
    #[arg(long, value_name = "FILE")]
    pub pvinfo: Option<PathBuf>,

    /// With --pvinfo: the byte order of the KVM host whose ioctl wrote the file (it
    /// decides how the flags field is read), not the guest's; default big. Refused
    /// without --pvinfo.
    #[arg(long, value_enum, requires = "pvinfo")]
    pub endian: Option<EndianArg>,

    /// With --pvinfo: the hcall words are in the host's order (kernels before the
    /// cpu_to_be32 change) instead of big-endian.
    #[arg(long, requires = "pvinfo")]
    pub legacy_pvinfo: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = HvFormatArg::Dtb)]
    pub format: HvFormatArg,

    /// Output file. Default: standard output (a DTB is refused on a terminal).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub node: NodeOpts,

    #[command(flatten)]
    pub layout: LayoutOpts,
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

/// Runs `ppcpv hypervisor`.
pub fn run(a: HypervisorArgs) -> Result<(), CliError> {
    let output = rule::dest(a.output.as_deref());
    if a.format != HvFormatArg::Dts {
        rule::check_binary(&output)?;
    }
    let mut node = match (&a.pvinfo, a.node.flavour()) {
        (Some(_), Some(Flavour::Epapr)) => {
            return Err(CliError::usage(
                "--pvinfo describes a KVM host; it builds a kvm-flavour node, not epapr",
            ));
        }
        (Some(path), _) => {
            super::refuse_output_over_input(path, &output)?;
            let input = crate::cli::fileio::read_input(path, PVINFO_SIZE as u64 + 1)?;
            let host = ppcpv::Endian::from(a.endian.unwrap_or_default());
            let order = if a.legacy_pvinfo {
                PvinfoOrder::legacy(host)
            } else {
                PvinfoOrder::current(host)
            };
            KvmPpcPvinfo::from_bytes(&input, order)
                .map_err(|e| CliError::failed(format!("{}: {e}", path.display())))?
                .to_node()
        }
        (None, f) => HypervisorNode::preset(f.unwrap_or(Flavour::Kvm)),
    };
    a.node.apply(&mut node);
    let format = match a.format {
        HvFormatArg::Dtbo => {
            let dtbo = node
                .to_overlay(&a.layout.padding())
                .map_err(|e| CliError::usage(e.to_string()))?;
            return rule::write_blob(&output, &dtbo, None);
        }
        HvFormatArg::Dtb => FormatArg::Dtb,
        HvFormatArg::Dts => FormatArg::Dts,
    };
    let dtb = node
        .to_minimal_dtb(&a.layout.padding())
        .map_err(|e| match e {
            // Not the options' fault but the machine's: a failure, exit 1.
            ppcpv::dt::hypervisor::NodeError::Write(
                ppcpv::fdt::writer::WriteError::OutOfMemory { .. },
            ) => CliError::failed(e.to_string()),
            e => CliError::usage(e.to_string()),
        })?;

    write_tree(&dtb, format, &output)
}

/// Writes a finished blob to `output` under the output rule ([`rule`]): as DTB (refused
/// on a terminal) or as DTS text through the reader and the dtc-identical printer; a
/// file is written atomically and announced with one line on stderr.
///
/// # Errors
/// I/O errors, a terminal for a DTB, or (never for ppcpv's own blobs) a blob the reader
/// refuses.
pub fn write_tree(dtb: &[u8], format: FormatArg, output: &std::path::Path) -> Result<(), CliError> {
    match format {
        FormatArg::Dtb => return rule::write_blob(output, dtb, None),
        FormatArg::Dts => {
            let mut out = crate::cli::fileio::Output::create(output)?;
            let fdt = ppcpv::fdt::Fdt::new(dtb)?;
            ppcpv::fdt::dts::write_dts(&fdt, &mut out, &ppcpv::fdt::dts::DtsOptions::default())?;
            out.finish()?;
        }
    }
    rule::announce(output, None);
    Ok(())
}
