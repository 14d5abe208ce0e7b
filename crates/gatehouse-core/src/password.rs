//! User passwords: Argon2id (RFC 9106 §4, the crate's OWASP-minimum defaults: 19 MiB, t=2, p=1)
//! stored as PHC strings.
//!
//! Only for what people choose. Machine secrets use [`crate::secret`].
//!
//! Each computation needs its working memory (m_cost KiB). Allocating and freeing 19 MiB per
//! sign-in lets a process's resident size creep upwards (the system allocator keeps freed
//! blocks of that size in its arenas), so the `*_with` functions compute into a caller-owned
//! [`HashMemory`] that a pool can keep and reuse: a verification parses the stored PHC string
//! (algorithm, version, parameters, salt, expected output), computes into that memory and
//! compares the outputs in constant time. The plain functions allocate for one use.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

/// Refused cost parameters: a stored hash asking for more than this much memory (KiB) or more
/// passes is treated as malformed rather than allowed to exhaust the server.
pub const MAX_M_COST_KIB: u32 = 256 * 1024;
/// See [`MAX_M_COST_KIB`].
pub const MAX_T_COST: u32 = 16;
/// See [`MAX_M_COST_KIB`].
pub const MAX_P_COST: u32 = 16;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The stored string is not an Argon2 PHC string we accept (or its costs are beyond the
    /// limits above).
    #[error("the stored password hash is malformed or unsupported")]
    Malformed,
    /// Argon2 refused the inputs (it does not for our parameters).
    #[error("could not hash password: {0}")]
    Hash(String),
}

/// Working memory for Argon2, allocated once and reused by every computation given it. It
/// grows (and stays grown) when a stored hash needs more than it has.
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl Default for HashMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl HashMemory {
    /// Memory for the default parameters (19 MiB).
    pub fn new() -> Self {
        Self::with_kib(Params::DEFAULT_M_COST)
    }

    /// Memory for `kib` KiB (one Argon2 block is 1 KiB).
    pub fn with_kib(kib: u32) -> Self {
        Self {
            blocks: vec![Block::new(); kib as usize],
        }
    }

    /// The size in KiB.
    pub fn kib(&self) -> usize {
        self.blocks.len()
    }

    fn for_params(&mut self, params: &Params) -> &mut [Block] {
        let need = params.block_count();
        if self.blocks.len() < need {
            self.blocks.resize(need, Block::new());
        }
        &mut self.blocks[..need]
    }
}

/// Hashes a password into a PHC string (allocating working memory for this one call).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    hash_password_with(password, &mut HashMemory::new())
}

/// Hashes a password into a PHC string with the default parameters and a random 128-bit salt,
/// computing in `memory`.
pub fn hash_password_with(
    password: &str,
    memory: &mut HashMemory,
) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            memory.for_params(&params),
        )
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    let bad = |e: argon2::password_hash::phc::Error| PasswordError::Hash(e.to_string());
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| PasswordError::Hash(e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(bad)?),
        hash: Some(Output::new(&out).map_err(bad)?),
    };
    Ok(phc.to_string())
}

/// Verifies a password against a stored PHC string (allocating working memory for this one
/// call); a malformed hash verifies nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    verify_password_with(password, phc, &mut HashMemory::new()).unwrap_or(false)
}

/// Verifies a password against a stored PHC string, computing in `memory`. `Ok(false)` for a
/// wrong password; an error when the stored string cannot be used at all.
pub fn verify_password_with(
    password: &str,
    phc: &str,
    memory: &mut HashMemory,
) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|_| PasswordError::Malformed)?;
    let algorithm =
        Algorithm::try_from(parsed.algorithm.as_str()).map_err(|_| PasswordError::Malformed)?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).map_err(|_| PasswordError::Malformed)?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).map_err(|_| PasswordError::Malformed)?;
    if params.m_cost() > MAX_M_COST_KIB
        || params.t_cost() > MAX_T_COST
        || params.p_cost() > MAX_P_COST
    {
        return Err(PasswordError::Malformed);
    }
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(PasswordError::Malformed);
    };
    let expected = expected.as_bytes();
    let mut buf = [0u8; Output::MAX_LENGTH];
    let out = buf
        .get_mut(..expected.len())
        .ok_or(PasswordError::Malformed)?;
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            out,
            memory.for_params(&params),
        )
        .map_err(|_| PasswordError::Malformed)?;
    Ok(out.ct_eq(expected).into())
}

/// A well-formed hash that no password matches, verified against when a username is unknown so
/// that the response time does not tell which usernames exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password("gatehouse-dummy-password-never-matches").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[test]
    fn password_round_trip() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn reused_memory_verifies_hashes_of_the_argon2_crate_and_our_own() {
        let mut memory = HashMemory::new();
        let theirs = Argon2::default()
            .hash_password(b"tr0ub4dor&3")
            .unwrap()
            .to_string();
        let ours = hash_password_with("tr0ub4dor&3", &mut memory).unwrap();
        for phc in [&theirs, &ours] {
            assert!(verify_password_with("tr0ub4dor&3", phc, &mut memory).unwrap());
            assert!(!verify_password_with("tr0ub4dor&4", phc, &mut memory).unwrap());
        }
        assert_eq!(memory.kib(), 19 * 1024, "the memory was reused, not grown");
    }

    #[test]
    fn a_hash_needing_more_memory_grows_the_buffer_once() {
        let params = Params::new(32 * 1024, 1, 1, None).unwrap();
        let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        let mut memory = HashMemory::with_kib(8);
        assert!(verify_password_with("pw", &phc, &mut memory).unwrap());
        assert_eq!(memory.kib(), 32 * 1024);
    }

    #[test]
    fn malformed_or_overpriced_hashes_are_errors_not_panics() {
        let mut memory = HashMemory::with_kib(8);
        for phc in [
            "",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$ZXhwZWN0ZWRleHBlY3RlZA",
            "$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHRzYWx0$ZXhwZWN0ZWRleHBlY3RlZA",
        ] {
            assert!(
                matches!(
                    verify_password_with("pw", phc, &mut memory),
                    Err(PasswordError::Malformed)
                ),
                "{phc}"
            );
        }
    }

    #[test]
    fn the_dummy_hash_matches_nothing() {
        assert!(dummy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("", dummy_hash()));
        assert!(!verify_password(
            "gatehouse-dummy-password-never-matches ",
            dummy_hash()
        ));
    }
}
