//! On-CPU time per call for the benches whose targets are a few nanoseconds: measured
//! from the thread's scheduler statistics, so a shared, overloaded machine does not
//! inflate it the way it inflates criterion's wall-clock figures.

/// On-CPU nanoseconds of this thread so far (`/proc/thread-self/schedstat`, first
/// field), or `None` off Linux.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Time `n` calls of `f` in on-CPU time, which a shared, overloaded machine does not
/// inflate the way it inflates criterion's wall-clock figures.
pub fn cpu_per_call(name: &str, n: u64, mut f: impl FnMut()) {
    let Some(t0) = thread_cpu_ns() else { return };
    for _ in 0..n {
        f();
    }
    let Some(t1) = thread_cpu_ns() else { return };
    #[allow(clippy::cast_precision_loss)]
    let per = (t1.saturating_sub(t0)) as f64 / n as f64;
    println!("{name:<36} {per:>6.2} ns/call on-CPU ({n} calls)");
}
