//! The guest's paravirtual rewrite table: which privileged instructions a Linux guest
//! rewrites into loads and stores on the magic page, and a scanner over code images.
