//! The options `gen`, `patch` and `hypervisor` share, defined once and flattened into
//! each (`#[command(flatten)]`), so the three spell, document and read them alike:
//!
//! * [`NodeOpts`]: what the `/hypervisor` node holds (`--flavour`, `--hcall`,
//!   `--has-idle`/`--no-has-idle`, `--compatible`, `--guest-id`, `--guest-name`);
//! * [`LayoutOpts`]: the blob's free space, as dtc's `-p`, `-S` and `-a`
//!   (`--pad`, `-S/--space`, `-a/--align`). `--pad` has no short letter: `-p` is
//!   `get`'s `--properties`.

use super::hypervisor::FlavourArg;
use clap::Args;
use ppcpv::dt::hypervisor::{Flavour, HcallInstructions, HypervisorNode};
use ppcpv::fdt::writer::Padding;

/// What goes into the `/hypervisor` node.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "The /hypervisor node (gen, patch, hypervisor)")]
pub struct NodeOpts {
    /// The node's flavour: `kvm` (QEMU/KVM: "linux,kvm") or `epapr` (Topaz: the ePAPR
    /// compatibles, guest-id, guest-name, fsl,hv-version). A new node starts from its
    /// preset; an existing node gets its compatible list.
    #[arg(long, value_enum)]
    pub flavour: Option<FlavourArg>,

    /// hcall-instructions: a sequence name (kvm-pr, booke-hv, epapr, qemu-fallback,
    /// qemu-fallback-old) or 1-4 comma-separated 32-bit words (0x44000022,0x60000000),
    /// written exactly as given, never padded to four words.
    #[arg(long, value_name = "SEQ", value_parser = parse_hcall)]
    pub hcall: Option<HcallInstructions>,

    /// Write the empty has-idle property (the guest may call EV_IDLE when idle).
    #[arg(long, overrides_with = "no_has_idle")]
    pub has_idle: bool,

    /// Leave has-idle out (patch: remove it).
    #[arg(long, overrides_with = "has_idle")]
    pub no_has_idle: bool,

    /// A compatible entry; repeat for a list. Replaces the flavour's list.
    #[arg(long, value_name = "S", value_parser = parse_text)]
    pub compatible: Vec<String>,

    /// The guest-id value (Topaz's partition number).
    #[arg(long, value_name = "N", value_parser = super::parse_u32)]
    pub guest_id: Option<u32>,

    /// The guest-name value (Topaz's partition name).
    #[arg(long, value_name = "S", value_parser = parse_text)]
    pub guest_name: Option<String>,
}

/// The ids of every [`NodeOpts`] argument, for `conflicts_with_all`.
pub const NODE_ARG_IDS: [&str; 7] = [
    "flavour",
    "hcall",
    "has_idle",
    "no_has_idle",
    "compatible",
    "guest_id",
    "guest_name",
];

impl NodeOpts {
    /// The flavour asked for, if any.
    #[must_use]
    pub fn flavour(&self) -> Option<Flavour> {
        self.flavour.map(|f| match f {
            FlavourArg::Kvm => Flavour::Kvm,
            FlavourArg::Epapr => Flavour::Epapr,
        })
    }

    /// `Some(true)` for `--has-idle`, `Some(false)` for `--no-has-idle`, `None` for
    /// neither (the last one given wins).
    #[must_use]
    pub fn has_idle(&self) -> Option<bool> {
        if self.has_idle {
            Some(true)
        } else if self.no_has_idle {
            Some(false)
        } else {
            None
        }
    }

    /// Writes the options that set properties onto `node` (the flavour is the
    /// caller's: it picks the preset `node` starts from).
    pub fn apply(&self, node: &mut HypervisorNode) {
        if let Some(h) = self.hcall {
            node.hcall = Some(h);
        }
        if let Some(idle) = self.has_idle() {
            node.has_idle = idle;
        }
        if !self.compatible.is_empty() {
            node.compatible.clone_from(&self.compatible);
        }
        if self.guest_id.is_some() {
            node.guest_id = self.guest_id;
        }
        if self.guest_name.is_some() {
            node.guest_name.clone_from(&self.guest_name);
        }
    }
}

/// The blob's free space, as dtc's `-p`, `-S` and `-a`.
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Free space in the blob (gen, patch, hypervisor)")]
pub struct LayoutOpts {
    /// Add N zero bytes of free space after the blob (dtc -p), so a bootloader can
    /// edit it in place.
    #[arg(long, value_name = "N", value_parser = super::parse_u32, conflicts_with = "space")]
    pub pad: Option<u32>,

    /// Make the blob at least N bytes, free space at the end (dtc -S).
    #[arg(short = 'S', long, value_name = "N", value_parser = super::parse_u32)]
    pub space: Option<u32>,

    /// Round the blob's size up to a multiple of N, a power of two (dtc -a).
    #[arg(short = 'a', long, value_name = "N", value_parser = parse_align)]
    pub align: Option<u32>,
}

impl LayoutOpts {
    /// The padding these options ask for.
    #[must_use]
    pub fn padding(&self) -> Padding {
        Padding {
            pad: self.pad,
            space: self.space,
            align: self.align,
        }
    }

    /// Whether any layout option was given.
    #[must_use]
    pub fn any(&self) -> bool {
        self.padding() != Padding::NONE
    }
}

fn parse_hcall(s: &str) -> Result<HcallInstructions, String> {
    s.parse::<HcallInstructions>().map_err(|e| e.to_string())
}

/// A property string: not empty, no NUL (the value is written NUL-terminated).
fn parse_text(s: &str) -> Result<String, String> {
    if s.is_empty() {
        Err("must not be empty".to_owned())
    } else if s.contains('\0') {
        Err("must not contain a NUL byte".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// `--align`: a power of two, refused at parse time (exit 2), as dtc refuses it.
fn parse_align(s: &str) -> Result<u32, String> {
    let n = super::parse_u32(s)?;
    if n == 0 || !n.is_power_of_two() {
        return Err(format!("alignment {n} is not a power of two"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align_must_be_a_power_of_two() {
        assert_eq!(parse_align("4096"), Ok(4096));
        assert_eq!(parse_align("0x10"), Ok(16));
        assert!(parse_align("0").is_err());
        assert!(parse_align("24").is_err());
    }

    #[test]
    fn node_options_write_what_they_name() {
        let mut node = HypervisorNode::preset(Flavour::Kvm);
        let opts = NodeOpts {
            no_has_idle: true,
            compatible: vec!["a".into(), "b".into()],
            guest_id: Some(3),
            guest_name: Some("g".into()),
            ..NodeOpts::default()
        };
        node.has_idle = true;
        opts.apply(&mut node);
        assert!(!node.has_idle);
        assert_eq!(node.compatible, ["a", "b"]);
        assert_eq!(node.guest_id, Some(3));
        assert_eq!(node.guest_name.as_deref(), Some("g"));
    }
}
