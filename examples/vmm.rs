//! A PowerPC VMM's side of paravirtualization, in miniature.
//!
//! First the device tree. The VMM builds its own small ppce500-like board with the
//! `vm_fdt::FdtWriter` it already uses (root, `/cpus`, `/memory`, `/chosen`), turns the
//! host's `KVM_PPC_GET_PVINFO` answer into a `/hypervisor` node and lets ppcpv write that
//! node into the same writer, as QEMU's `ppce500_load_device_tree` (`qemu/qemu:
//! hw/ppc/e500.c`) does with its own writer. ppcpv then reads the finished blob back and
//! says what a Linux guest will do with it.
//!
//! Then the magic page. A PowerPC guest running under (PR) KVM asks `KVM_HC_FEATURES`
//! whether the magic page exists, then maps it with `KVM_HC_PPC_MAP_MAGIC_PAGE`; from then
//! on its patched kernel reads and writes SPRG0–3, SRR0/1, DAR, MSR... as loads and
//! stores on that page instead of trapping. This program plays both sides: the "guest"
//! puts its hypercalls in registers, the VMM hands the vCPU's GPRs and MSR to ppcpv's
//! host model (`HostProfile::handle_sc`), which answers exactly as KVM does, locates the
//! page in guest RAM, and then reads the guest's registers straight out of it — no copy,
//! in the byte order the guest uses.
//!
//! Run: `cargo run --example vmm` (add `little` for a little-endian Book3S-64 guest).

use ppcpv::Endian;
use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::hypervisor::HypervisorNode;
use ppcpv::dt::pvinfo::{KvmPpcPvinfo, PvinfoOrder};
use ppcpv::fdt::Fdt;
use ppcpv::hcall::{
    HcallEffect, HcallToken, HostProfile, KVM_SC_MAGIC_R0, KvmFeature, KvmFeatures, MSR_SF,
    MagicFeatures, ScOutcome,
};
use ppcpv::magic::{MagicPage, MagicPageMut, PageLocation};

/// Guest RAM: 16 MiB, as a VMM would allocate it.
const RAM_SIZE: usize = 16 << 20;
/// Where this guest's kernel puts the page (any free, page-aligned guest frame).
const MAGIC_GPA: u64 = 0x00ff_f000;
/// `KVM_MAGIC_PAGE` = -4096, the EA Linux maps it at (`#define KVM_MAGIC_PAGE (-4096L)` in
/// `torvalds/linux: arch/powerpc/kernel/kvm.c`).
const MAGIC_EA: u64 = 0xffff_ffff_ffff_f000;
/// The e500 core clock and timebase QEMU's ppce500 board advertises (`hw/ppc/e500.c`,
/// `PLATFORM_CLK_FREQ_HZ`).
const CLOCK_HZ: u32 = 400_000_000;

/// The VMM's board: a ppce500-like tree written with vm-fdt, with ppcpv's `/hypervisor`
/// node in it. `ram` bytes of memory at address 0, one e500 CPU.
///
/// # Errors
/// What vm-fdt or the node refuses.
pub fn board_dtb(
    node: &HypervisorNode,
    ram: u64,
) -> Result<Vec<u8>, ppcpv::dt::hypervisor::NodeError> {
    let mut fdt = vm_fdt::FdtWriter::new()?;
    let root = fdt.begin_node("")?;
    fdt.property_string_list(
        "compatible",
        vec!["fsl,qemu-e500".to_owned(), "fsl,mpc8544ds".to_owned()],
    )?;
    fdt.property_string("model", "QEMU ppce500")?;
    fdt.property_u32("#address-cells", 2)?;
    fdt.property_u32("#size-cells", 2)?;
    // The root's own properties the node owns (none for KVM; Topaz's epapr-version).
    node.write_root_properties(&mut fdt)?;

    let cpus = fdt.begin_node("cpus")?;
    fdt.property_u32("#address-cells", 1)?;
    fdt.property_u32("#size-cells", 0)?;
    let cpu = fdt.begin_node("PowerPC,8544@0")?;
    fdt.property_string("device_type", "cpu")?;
    fdt.property_u32("reg", 0)?;
    fdt.property_u32("clock-frequency", CLOCK_HZ)?;
    fdt.property_u32("timebase-frequency", CLOCK_HZ)?;
    fdt.property_u32("d-cache-line-size", 32)?;
    fdt.property_u32("i-cache-line-size", 32)?;
    fdt.end_node(cpu)?;
    fdt.end_node(cpus)?;

    let memory = fdt.begin_node("memory@0")?;
    fdt.property_string("device_type", "memory")?;
    fdt.property_array_u64("reg", &[0, ram])?;
    fdt.end_node(memory)?;

    let chosen = fdt.begin_node("chosen")?;
    fdt.property_string("bootargs", "console=ttyS0")?;
    fdt.end_node(chosen)?;

    // ppcpv writes /hypervisor into the VMM's own writer.
    node.write(&mut fdt)?;

    fdt.end_node(root)?;
    Ok(fdt.finish()?)
}

/// The 128 bytes `KVM_PPC_GET_PVINFO` fills in on a big-endian Book3S PR or e500v2 host:
/// no flags, the `kvm-pr` words (`torvalds/linux: arch/powerpc/kvm/powerpc.c
/// (kvm_vm_ioctl_get_pvinfo)`).
pub fn pvinfo_answer(host: HostProfile) -> [u8; 128] {
    KvmPpcPvinfo::new(0, host.hcall_instructions()).to_bytes(PvinfoOrder::default())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endian = match std::env::args().nth(1).as_deref() {
        Some("little") => Endian::Little,
        _ => Endian::Big,
    };
    let host = HostProfile::Book3sPr;
    let mut ram = vec![0u8; RAM_SIZE];

    // 0. The device tree: the host's pvinfo answer becomes /hypervisor in the VMM's board.
    let info = KvmPpcPvinfo::from_bytes(&pvinfo_answer(host), PvinfoOrder::default())?;
    let dtb = board_dtb(&info.to_node(), RAM_SIZE as u64)?;
    let report = check_fdt(&Fdt::new(&dtb)?);
    println!(
        "board: {} bytes; Linux detects KVM: {}, ePAPR hypercalls: {}, magic page: {}; {} findings",
        dtb.len(),
        report.linux.detects_kvm(),
        report.linux.epapr_hypercalls(),
        report.linux.magic_page(),
        report.findings.len()
    );

    // 1. The vCPU exits on the guest's `sc`. The VMM hands ppcpv the registers as it got
    //    them from the vCPU (r0 holds KVM_SC_MAGIC_R0, loaded by the kvm-pr words; r11 the
    //    token KVM_HCALL_TOKEN(KVM_HC_FEATURES)) and the MSR (64-bit, supervisor), and
    //    ppcpv decides whether it is a hypercall, answers it and writes r3/r4 back.
    let msr = MSR_SF;
    let mut gprs = [0u64; 32];
    gprs[0] = u64::from(KVM_SC_MAGIC_R0);
    gprs[11] = u64::from(HcallToken::kvm(3).raw());
    let ScOutcome::Hypercall(_) = host.handle_sc(&mut gprs, msr) else {
        return Err("the host took FEATURES for a guest system call".into());
    };
    let features = KvmFeatures::from_hcall(gprs[3], gprs[4]);
    println!("FEATURES -> r3 = {}, r4 = {:#x}", gprs[3], gprs[4]);
    if !features.has(KvmFeature::MAGIC_PAGE) {
        return Err("host offers no magic page".into());
    }

    // 2. The guest maps the page: r3 = PA, r4 = EA | MAGIC_PAGE_FLAG_NOT_MAPPED_NX.
    gprs[11] = u64::from(HcallToken::kvm(4).raw());
    gprs[3] = MAGIC_GPA;
    gprs[4] = MAGIC_EA | 1;
    let ScOutcome::Hypercall(out) = host.handle_sc(&mut gprs, msr) else {
        return Err("the host took MAP for a guest system call".into());
    };
    let HcallEffect::MagicPageMapped(req) = out.effect else {
        return Err("MAP was not answered as a mapping".into());
    };
    let magic = MagicFeatures(out.r4);
    println!(
        "MAP      -> r3 = {}, r4 = {:#x}; page at GPA {:#x}, EA {:#x}, NX-aware guest: {}",
        out.r3,
        out.r4,
        req.pa,
        req.ea,
        req.nx_aware()
    );

    // 3. The VMM finds the 4 KiB page in guest RAM (bounds-checked: it came from the guest).
    let start = usize::try_from(req.pa)?;
    let range = start..start.checked_add(4096).ok_or("bad PA")?;
    let page = ram
        .get_mut(range.clone())
        .ok_or("magic page outside guest RAM")?;
    let mut host_view = MagicPageMut::new(page)?
        .with_endian(endian)
        .with_features(magic);
    host_view.set_msr(0x8000_0000_0000_1032);
    host_view.set_pir(0)?;
    host_view.set_int_pending(1); // an interrupt is pending (kvmppc_update_int_pending)

    // 4. The patched guest kernel runs: `mtsprg0 r3` became `std r3, -4096+0x20(0)`, and so
    //    on. Here it writes through the EA -> GPA translation the host MMU applies
    //    (`arch/powerpc/kvm/book3s_64_mmu.c (kvmppc_mmu_book3s_64_xlate)`, magic page override).
    for (ea_offset, value) in [
        (0x20u64, 0xc000_0000_0001_0000u64),
        (0x40, 0xc000_0000_0000_8f14),
        (0x48, 0x8000_0000_0000_9032),
    ] {
        let gpa = req
            .translate(MAGIC_EA + ea_offset)
            .ok_or("EA outside the page")?;
        let at = usize::try_from(gpa)?;
        let slot = ram.get_mut(at..at.saturating_add(8)).ok_or("outside RAM")?;
        endian.write_u64(slot, value);
    }
    // 5. The VMM reads the guest's registers from the page, in place.
    let view = MagicPage::new(ram.get(range).ok_or("outside RAM")?)?
        .with_endian(endian)
        .with_features(magic);
    println!("guest registers from the magic page ({endian}-endian):");
    println!("  msr   {:#018x}", view.msr());
    println!("  sprg0 {:#018x}", view.sprg0());
    println!("  srr0  {:#018x}", view.srr0());
    println!("  srr1  {:#018x}", view.srr1());
    println!(
        "  int_pending {}  pir {}  sr[0] {:#x}",
        view.int_pending(),
        view.pir()?,
        view.sr(0)?
    );
    Ok(())
}
