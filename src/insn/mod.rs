//! PowerPC instruction encoding and decoding for the instructions that appear in
//! hypercall sequences and in the guest's magic-page patching, a small assembler, and
//! the named `hcall-instructions` sequences.
