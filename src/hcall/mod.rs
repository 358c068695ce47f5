//! The hypercall ABI: tokens (`vendor << 16 | number`), the registry of every known
//! hypercall and return code, calling conventions, `KVM_HC_FEATURES` feature sets and
//! the host-side responder.

pub mod features;

pub use features::{KvmFeature, KvmFeatures, MagicFeatures};
