//! The shared magic page (`struct kvm_vcpu_arch_shared`): its exact layout, zero-copy
//! typed views in either byte order, and guest memory images mapped from files.
