//! A guest kernel's paravirtualization bring-up, on ppcpv without std.
//!
//! What a Linux guest does at boot on QEMU's `ppce500` under KVM
//! (`arch/powerpc/kernel/epapr_paravirt.c (epapr_paravirt_early_init)` and
//! `arch/powerpc/kernel/kvm.c (kvm_guest_init)`), written as a Rust guest or firmware
//! would write it:
//!
//! 1. find `/hypervisor` in the device tree the boot loader handed over, and check it
//!    the way Linux reads it;
//! 2. copy `hcall-instructions` into the hypercall stub;
//! 3. ask `KVM_HC_FEATURES` through the stub;
//! 4. map the magic page with `KVM_HC_PPC_MAP_MAGIC_PAGE`;
//! 5. read and write the shared registers through the typed view, with volatile access
//!    because the host writes the page too.
//!
//! On a real ppce500 guest, [`Cpu::run_stub`] is a branch to the patched stub (the
//! `sc` traps to KVM). This program is built for the host (the only target installed
//! here), so the trap is answered in-process by ppcpv's model of an e500v2 KVM host,
//! `HostProfile::handle_sc`, with the guest's registers as KVM would see them. The guest
//! side of the code is the same either way.
//!
//! Run: `cargo run --manifest-path examples/no-std-guest/Cargo.toml`.

#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use ppcpv::Endian;
use ppcpv::dt::checks::check_fdt;
use ppcpv::dt::hypervisor::HypervisorNode;
use ppcpv::fdt::Fdt;
use ppcpv::hcall::{HcallToken, HostProfile, KvmFeature, KvmFeatures, MagicFeatures, ScOutcome};
use ppcpv::insn::Insn;
use ppcpv::insn::seq::GuestStub;
use ppcpv::magic::VolatileMagicPage;

/// The device tree the boot loader passes in r3: here QEMU's KVM `/hypervisor` node as
/// an e500v2 host writes it (the repository's `dts/kvm.dtb` golden).
static DTB: &[u8] = include_bytes!("../../../dts/kvm.dtb");

/// Where this guest puts the magic page: the effective address Linux uses,
/// `KVM_MAGIC_PAGE` = -4096 (`arch/powerpc/include/asm/kvm_para.h`), backed by a free
/// guest-physical page the guest picks.
const MAGIC_EA: u64 = 0xffff_f000;
const MAGIC_GPA: u64 = 0x07ff_f000;

/// The page itself. On hardware it is guest RAM the host writes behind the guest's back;
/// here a static the in-process host writes. 8-byte alignment lets every field be one
/// load or store.
#[repr(C, align(4096))]
struct Page([u8; 4096]);
static mut PAGE: Page = Page([0; 4096]);

fn kernel_main() -> Result<(), &'static str> {
    let mut con = Console;

    // 1. The tree, through the validating reader, and Linux's verdict on it.
    let fdt = Fdt::new(DTB).map_err(|_| "boot loader passed a bad device tree")?;
    let node = HypervisorNode::from_fdt(&fdt)
        .map_err(|_| "unreadable /hypervisor")?
        .ok_or("no /hypervisor: not under a hypervisor, nothing to set up")?;
    let report = check_fdt(&fdt);
    let _ = writeln!(con, "guest: /hypervisor {:?}", node.compatible);
    let _ = writeln!(
        con,
        "guest: Linux would detect KVM: {}, enable ePAPR hypercalls: {}",
        report.linux.detects_kvm(),
        report.linux.epapr_hypercalls()
    );
    let words = node.hcall.as_ref().ok_or("no hcall-instructions")?;

    // 2. Patch the stub: the property's words into its four slots, as the CPU fetches them.
    let stub = GuestStub::patch(words.words(), Endian::Big).map_err(|_| "too many words")?;
    for w in &stub.slots {
        let _ = writeln!(con, "guest: stub {w:#010x}  {}", Insn::decode(*w));
    }
    let mut cpu = Cpu {
        gprs: [0; 32],
        msr: 0, // supervisor mode, 32-bit (an e500v2 kernel)
        host: HostProfile::E500v2,
    };

    // 3. KVM_HC_FEATURES: r11 = the token, answer in r3 (status) and r4 (features).
    cpu.gprs[11] = u64::from(HcallToken::kvm(3).raw());
    cpu.run_stub(&stub)?;
    let features = KvmFeatures::from_hcall(cpu.gprs[3], cpu.gprs[4]);
    let _ = writeln!(
        con,
        "guest: KVM_HC_FEATURES -> r3 = {}, {features}",
        cpu.gprs[3] as i64
    );
    if !features.has(KvmFeature::MAGIC_PAGE) {
        return Err("host offers no magic page");
    }

    // 4. KVM_HC_PPC_MAP_MAGIC_PAGE: r3 = guest-physical page, r4 = its effective address.
    cpu.gprs[11] = u64::from(HcallToken::kvm(4).raw());
    cpu.gprs[3] = MAGIC_GPA;
    cpu.gprs[4] = MAGIC_EA;
    cpu.run_stub(&stub)?;
    let magic = MagicFeatures(cpu.gprs[4]);
    let _ = writeln!(
        con,
        "guest: MAP_MAGIC_PAGE -> r3 = {}, {magic}",
        cpu.gprs[3] as i64
    );

    // 5. The page, as shared memory: volatile access, never a Rust reference to it.
    let ptr = core::ptr::NonNull::new((&raw mut PAGE).cast::<u8>()).ok_or("null page")?;
    // SAFETY: PAGE is a 4096-byte, 4096-aligned static that lives forever; from here on it
    // is touched only through volatile views (this one and the host's), never through a
    // reference.
    let page = unsafe { VolatileMagicPage::from_ptr(ptr) }
        .map_err(|_| "misaligned page")?
        .with_features(magic);
    // The host keeps the guest's MSR in the page while the guest runs (KVM's
    // `kvmppc_set_msr`); a paravirtualised `mfmsr` becomes a load from it.
    host_writes_msr(0x0002_9000);
    let _ = writeln!(con, "guest: mfmsr via the page -> {:#x}", page.msr());
    page.set_sprg0(0xc000_1000); // `mtsprg0` becomes a store
    page.set_scratch1(0x1234);
    let _ = writeln!(
        con,
        "guest: sprg0 {:#x}, scratch1 {:#x}, critical {:#x}",
        page.sprg0(),
        page.scratch1(),
        page.critical()
    );
    Ok(())
}

/// The guest CPU's state that a hypercall touches.
struct Cpu {
    gprs: [u64; 32],
    msr: u64,
    host: HostProfile,
}

impl Cpu {
    /// Runs the patched stub. On ppce500 hardware this is `bl` to the stub; on the host
    /// build it steps the few instructions a stub holds with ppcpv's decoder, and the
    /// trap is answered by ppcpv's e500v2 host model, exactly as KVM would.
    fn run_stub(&mut self, stub: &GuestStub) -> Result<(), &'static str> {
        for &w in &stub.slots {
            match Insn::decode(w) {
                // lis rT,SI / li rT,SI (rA = 0 reads as the value 0)
                Insn::Addis { rt, ra: 0, si } => {
                    self.gprs[usize::from(rt)] = ((i64::from(si)) << 16) as u64
                }
                Insn::Addi { rt, ra: 0, si } => self.gprs[usize::from(rt)] = i64::from(si) as u64,
                Insn::Ori { ra, rs, ui } => {
                    self.gprs[usize::from(ra)] = self.gprs[usize::from(rs)] | u64::from(ui)
                }
                Insn::Sc { lev: 0 | 1 } => match self.host.handle_sc(&mut self.gprs, self.msr) {
                    ScOutcome::Hypercall(_) => {}
                    _ => return Err("the host did not take the trap as a hypercall"),
                },
                Insn::Blr => return Ok(()),
                _ => return Err("an instruction a hypercall stub does not hold"),
            }
        }
        Err("the stub did not return")
    }
}

/// The host's side of the shared page (KVM writing the guest's MSR into it).
fn host_writes_msr(msr: u64) {
    let ptr = core::ptr::NonNull::new((&raw mut PAGE).cast::<u8>()).expect("static");
    // SAFETY: as in `main`: PAGE is only ever accessed through volatile views.
    if let Ok(host) = unsafe { VolatileMagicPage::from_ptr(ptr) } {
        host.set_msr(msr);
    }
}

// ---- What a freestanding program provides for itself ----

/// Output: the C library's `write(2)` on the host build (a UART on hardware).
struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: a valid buffer of s.len() bytes for the duration of the call.
        let n = unsafe { write(1, s.as_ptr(), s.len()) };
        if n < 0 { Err(core::fmt::Error) } else { Ok(()) }
    }
}

#[link(name = "c")]
unsafe extern "C" {
    fn write(fd: i32, buf: *const u8, len: usize) -> isize;
    fn exit(code: i32) -> !;
}

/// A bump allocator over a static arena: enough for a bring-up path that allocates a
/// few small vectors and never frees them in bulk.
struct Bump;

const ARENA: usize = 256 << 10;
/// Page-aligned, so an offset aligned to `align` (at most a page) is an aligned address.
#[repr(C, align(4096))]
struct Arena([u8; ARENA]);
static mut HEAP: Arena = Arena([0; ARENA]);
static NEXT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 4096 {
            return core::ptr::null_mut();
        }
        let mut cur = NEXT.load(Ordering::Relaxed);
        loop {
            let start = (cur + layout.align() - 1) & !(layout.align() - 1);
            let Some(end) = start.checked_add(layout.size()).filter(|&e| e <= ARENA) else {
                return core::ptr::null_mut();
            };
            match NEXT.compare_exchange(cur, end, Ordering::Relaxed, Ordering::Relaxed) {
                // SAFETY: start..end lies inside HEAP and is handed out once.
                Ok(_) => return unsafe { (&raw mut HEAP).cast::<u8>().add(start) },
                Err(now) => cur = now,
            }
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Console, "guest: {info}");
    // SAFETY: ends the process.
    unsafe { exit(101) }
}

/// The C runtime calls this; on hardware the boot loader jumps to the kernel's entry
/// with the tree's address in r3.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    match kernel_main() {
        Ok(()) => 0,
        Err(why) => {
            let _ = writeln!(Console, "guest: {why}");
            1
        }
    }
}

// The precompiled `alloc` crate was built for targets that unwind and names these two
// symbols; with `panic = "abort"` nothing ever unwinds, so neither is ever called.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    // SAFETY: ends the process.
    unsafe { exit(134) }
}
