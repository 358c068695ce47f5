//! The guest kernel's build configuration, as far as `kvm_check_ins` cares.
//!
//! `torvalds/linux: arch/powerpc/kernel/kvm.c` decides what to patch partly at compile
//! time: `CONFIG_64BIT` picks `ld`/`std` or `lwz`/`stw` at `+4` (`kvm_patch_ins_ld`, `kvm_patch_ins_std`),
//! `CONFIG_BOOKE` swaps DAR for DEAR and enables the `wrtee`/`wrteei`/ESR/SPRG4R–7R
//! cases, `CONFIG_PPC_BOOK3E_MMU` enables the MAS cases and `CONFIG_PPC_BOOK3S_32` the
//! `mtsrin` case. None of that can be seen in a code image, so it is an explicit input
//! here, never a guess.

use core::fmt;

/// The guest's word size (`CONFIG_64BIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum WordSize {
    /// A 32-bit kernel: u64 fields are reached through their low word at `+4`.
    W32,
    /// A 64-bit kernel: `ld`/`std` on u64 fields.
    #[default]
    W64,
}

impl WordSize {
    /// 32 or 64.
    #[must_use]
    pub const fn bits(self) -> u32 {
        match self {
            WordSize::W32 => 32,
            WordSize::W64 => 64,
        }
    }
}

impl fmt::Display for WordSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-bit", self.bits())
    }
}

/// The processor family the kernel was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Family {
    /// Book3S (`CONFIG_PPC_BOOK3S`): pseries/powernv/PowerMac; 32-bit Book3S is
    /// `CONFIG_PPC_BOOK3S_32`.
    #[default]
    Book3S,
    /// BookE (`CONFIG_BOOKE`): e500, e5500, e6500, 44x.
    BookE,
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Book3S => "Book3S",
            Family::BookE => "BookE",
        })
    }
}

/// A combination of options no kernel can be built with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `CONFIG_PPC_BOOK3E_MMU` is only selected by BookE platforms (e500, Book3E-64).
    #[error("CONFIG_PPC_BOOK3E_MMU (the MAS registers) needs a BookE kernel")]
    Book3eMmuWithoutBookE,
}

/// The kernel configuration `kvm_check_ins` was compiled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Config {
    word_size: WordSize,
    family: Family,
    book3e_mmu: bool,
}

impl Config {
    /// A 64-bit Book3S kernel (pseries, powernv, PowerMac G5).
    pub const BOOK3S_64: Config = Config {
        word_size: WordSize::W64,
        family: Family::Book3S,
        book3e_mmu: false,
    };
    /// A 32-bit Book3S kernel (`CONFIG_PPC_BOOK3S_32`: PowerMac G3/G4, `mtsrin` patching).
    pub const BOOK3S_32: Config = Config {
        word_size: WordSize::W32,
        family: Family::Book3S,
        book3e_mmu: false,
    };
    /// A 32-bit e500 kernel (`CONFIG_BOOKE` + `CONFIG_PPC_BOOK3E_MMU`), such as an e500v2
    /// guest under QEMU's ppce500 machine and BookE PR KVM.
    pub const E500: Config = Config {
        word_size: WordSize::W32,
        family: Family::BookE,
        book3e_mmu: true,
    };
    /// A 64-bit Book3E kernel (e5500/e6500: `CONFIG_PPC_BOOK3E_64`, which selects
    /// `CONFIG_BOOKE` and `CONFIG_PPC_BOOK3E_MMU`).
    pub const BOOK3E_64: Config = Config {
        word_size: WordSize::W64,
        family: Family::BookE,
        book3e_mmu: true,
    };

    /// Checks and builds a configuration.
    ///
    /// # Errors
    /// [`ConfigError::Book3eMmuWithoutBookE`] for `book3e_mmu` on a Book3S kernel.
    pub const fn new(
        word_size: WordSize,
        family: Family,
        book3e_mmu: bool,
    ) -> Result<Config, ConfigError> {
        if book3e_mmu && matches!(family, Family::Book3S) {
            return Err(ConfigError::Book3eMmuWithoutBookE);
        }
        Ok(Config {
            word_size,
            family,
            book3e_mmu,
        })
    }

    /// The usual configuration for a family and word size: Book3S, or BookE with the
    /// Book3E MMU (every BookE kernel that can run under KVM with a magic page).
    #[must_use]
    pub const fn preset(word_size: WordSize, family: Family) -> Config {
        Config {
            word_size,
            family,
            book3e_mmu: matches!(family, Family::BookE),
        }
    }

    /// `CONFIG_64BIT`.
    #[must_use]
    pub const fn word_size(self) -> WordSize {
        self.word_size
    }

    /// `CONFIG_BOOKE` or Book3S.
    #[must_use]
    pub const fn family(self) -> Family {
        self.family
    }

    /// `CONFIG_BOOKE`.
    #[must_use]
    pub const fn booke(self) -> bool {
        matches!(self.family, Family::BookE)
    }

    /// `CONFIG_PPC_BOOK3E_MMU`.
    #[must_use]
    pub const fn book3e_mmu(self) -> bool {
        self.book3e_mmu
    }

    /// `CONFIG_PPC_BOOK3S_32`: a 32-bit Book3S kernel.
    #[must_use]
    pub const fn book3s_32(self) -> bool {
        matches!(self.family, Family::Book3S) && matches!(self.word_size, WordSize::W32)
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.word_size, self.family)?;
        if self.booke() && !self.book3e_mmu {
            f.write_str(" without BOOK3E_MMU")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_derived_options() {
        assert!(Config::BOOK3S_32.book3s_32());
        assert!(!Config::BOOK3S_64.book3s_32());
        assert!(!Config::E500.book3s_32());
        assert!(Config::E500.booke() && Config::E500.book3e_mmu());
        assert_eq!(
            Config::preset(WordSize::W64, Family::BookE),
            Config::BOOK3E_64
        );
        assert_eq!(
            Config::preset(WordSize::W32, Family::Book3S),
            Config::BOOK3S_32
        );
        assert_eq!(Config::E500.to_string(), "32-bit BookE");
        let no_mmu = Config::new(WordSize::W32, Family::BookE, false).unwrap();
        assert_eq!(no_mmu.to_string(), "32-bit BookE without BOOK3E_MMU");
    }

    #[test]
    fn rejects_book3e_mmu_on_book3s() {
        assert_eq!(
            Config::new(WordSize::W64, Family::Book3S, true),
            Err(ConfigError::Book3eMmuWithoutBookE)
        );
        assert_eq!(
            ConfigError::Book3eMmuWithoutBookE.to_string(),
            "CONFIG_PPC_BOOK3E_MMU (the MAS registers) needs a BookE kernel"
        );
    }
}
