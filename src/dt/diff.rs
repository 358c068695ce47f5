//! What a change of a tree's `/hypervisor` node means for a guest: Linux's verdict
//! (KVM detection, ePAPR hypercalls, the magic page, `EV_IDLE`) before and after, the
//! same verdict `ppcpv inspect` gives ([`crate::dt::checks::check_fdt`]).

use crate::dt::checks::{LinuxVerdict, check_fdt};
use crate::dt::host::Host;
use crate::dt::hypervisor::NODE_PATH;
use crate::fdt::Fdt;
use crate::fdt::diff::Change;
use std::fmt;

/// Linux's verdict on tree A and on tree B.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct GuestChange {
    /// On A.
    pub before: LinuxVerdict,
    /// On B.
    pub after: LinuxVerdict,
    /// The host kinds A's words are right for (as `inspect`'s "right for").
    pub hosts_before: Vec<Host>,
    /// The host kinds B's words are right for.
    pub hosts_after: Vec<Host>,
}

/// Whether a change touches `/hypervisor` or a node below it.
#[must_use]
pub fn touches_hypervisor(change: &Change) -> bool {
    change.path().is_some_and(|p| {
        p == NODE_PATH
            || p.strip_prefix(NODE_PATH)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// Linux's verdict before and after, when `changes` (from [`crate::fdt::diff::diff`]
/// of `a` and `b`) touch `/hypervisor`; `None` otherwise.
///
/// ```
/// use ppcpv::dt::diff::guest_change;
/// use ppcpv::dt::machine::{generate, GuestConfig, Machine};
/// use ppcpv::dt::patch::PatchRequest;
/// use ppcpv::fdt::diff::{diff, DiffOptions};
/// use ppcpv::fdt::Fdt;
///
/// let mut cfg = GuestConfig::new(Machine::Minimal);
/// cfg.hypervisor = None;
/// let plain = generate(&cfg).unwrap();
/// let kvm = PatchRequest::default().apply(&plain).unwrap().blob;
/// let (a, b) = (Fdt::new(&plain).unwrap(), Fdt::new(&kvm).unwrap());
/// let changes = diff(&a, &b, &DiffOptions::default());
/// let g = guest_change(&a, &b, &changes).unwrap();
/// assert!(!g.before.detects_kvm() && g.after.detects_kvm());
/// ```
#[must_use]
pub fn guest_change(a: &Fdt<'_>, b: &Fdt<'_>, changes: &[Change]) -> Option<GuestChange> {
    if !changes.iter().any(touches_hypervisor) {
        return None;
    }
    let (ra, rb) = (check_fdt(a), check_fdt(b));
    Some(GuestChange {
        hosts_before: ra.right_hosts().collect(),
        hosts_after: rb.right_hosts().collect(),
        before: ra.linux,
        after: rb.linux,
    })
}

impl fmt::Display for GuestChange {
    /// `Linux guest:` then one line per verdict, `yes -> no`, with both reasons when
    /// they differ.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let (a, b) = (&self.before, &self.after);
        writeln!(f, "Linux guest (before -> after):")?;
        let rows: [(&str, bool, bool, String, String); 4] = [
            (
                "detects KVM",
                a.detects_kvm(),
                b.detects_kvm(),
                a.kvm.to_string(),
                b.kvm.to_string(),
            ),
            (
                "ePAPR hypercalls",
                a.epapr_hypercalls(),
                b.epapr_hypercalls(),
                a.hypercalls.to_string(),
                b.hypercalls.to_string(),
            ),
            (
                "magic page",
                a.magic_page(),
                b.magic_page(),
                a.magic.to_string(),
                b.magic.to_string(),
            ),
            (
                "EV_IDLE",
                a.ev_idle,
                b.ev_idle,
                a.idle.to_string(),
                b.idle.to_string(),
            ),
        ];
        for (what, x, y, rx, ry) in rows {
            if rx == ry {
                writeln!(f, "  {what}: {} -> {} ({rx})", yes(x), yes(y))?;
            } else {
                writeln!(f, "  {what}: {} -> {}", yes(x), yes(y))?;
                writeln!(f, "    before: {rx}")?;
                writeln!(f, "    after:  {ry}")?;
            }
        }
        let list = |hs: &[Host]| {
            if hs.is_empty() {
                "no host".to_string()
            } else {
                hs.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        writeln!(
            f,
            "  right for: {} -> {}",
            list(&self.hosts_before),
            list(&self.hosts_after)
        )
    }
}
