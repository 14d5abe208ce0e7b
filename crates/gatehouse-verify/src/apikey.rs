//! Gatehouse API keys, recognised offline, and their IP allowlists.
//!
//! The format is the published one (`docs/api-keys.md`): `<prefix><body><check>` where
//! `prefix` is configured per environment (default `gh_live_` / `gh_test_`), `body` is 52
//! characters of lowercase RFC 4648 base32 (256 random bits) and `check` is the first 5 bytes of
//! SHA-256(`prefix` ‖ `body`) in the same base32 (8 characters). Checking it costs a hash and
//! no request: a mistyped or truncated key is refused before the authorization server is asked.
//! (The checksum protects against mistakes, not forgery; forged well-formed keys are answered
//! by introspection and cached as inactive.)

use std::net::IpAddr;

use sha2::{Digest, Sha256};

const BODY_LEN: usize = 52;
const CHECK_LEN: usize = 8;
const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// What a presented bearer value is, judged by its form alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// Carries no API-key prefix: not an API key (perhaps a JWT).
    NotAKey,
    /// Has a prefix but the wrong length, alphabet or checksum.
    Malformed,
    /// Well formed; only the authorization server can say whether it is live.
    WellFormed,
}

/// Classifies `presented` against the configured prefixes.
pub fn key_form(presented: &str, prefixes: &[String]) -> KeyForm {
    let Some(prefix) = prefixes.iter().find(|p| presented.starts_with(p.as_str())) else {
        return KeyForm::NotAKey;
    };
    let rest = &presented[prefix.len()..];
    if rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().all(|b| B32.contains(&b)) {
        return KeyForm::Malformed;
    }
    let (body, check) = rest.split_at(BODY_LEN);
    let mut h = Sha256::new();
    h.update(prefix.as_bytes());
    h.update(body.as_bytes());
    let digest = h.finalize();
    if base32(&digest[..5]) == check {
        KeyForm::WellFormed
    } else {
        KeyForm::Malformed
    }
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(B32[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Whether `ip` is allowed by a key's allowlist (`10.0.0.0/8`, `2001:db8::1`, ...). An empty
/// list allows any address; an entry that does not parse allows nothing. IPv4-mapped IPv6
/// addresses match IPv4 entries.
pub fn ip_allowed(allowlist: &[String], ip: IpAddr) -> bool {
    if allowlist.is_empty() {
        return true;
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    allowlist.iter().any(|entry| in_block(entry, ip))
}

fn in_block(entry: &str, ip: IpAddr) -> bool {
    let (addr, len) = match entry.split_once('/') {
        Some((a, l)) => match l.parse::<u32>() {
            Ok(l) => (a, Some(l)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let len = len.unwrap_or(32);
            len <= 32 && mask(u128::from(u32::from(n)), u128::from(u32::from(a)), len, 32)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let len = len.unwrap_or(128);
            len <= 128 && mask(u128::from(n), u128::from(a), len, 128)
        }
        _ => false,
    }
}

fn mask(net: u128, addr: u128, len: u32, width: u32) -> bool {
    if len == 0 {
        return true;
    }
    let shift = width - len;
    (net >> shift) == (addr >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Vec<String> {
        vec!["gh_live_".into(), "gh_test_".into()]
    }

    fn make(prefix: &str, body: &str) -> String {
        let mut h = Sha256::new();
        h.update(prefix.as_bytes());
        h.update(body.as_bytes());
        format!("{prefix}{body}{}", base32(&h.finalize()[..5]))
    }

    #[test]
    fn well_formed_keys_pass_and_any_change_is_caught_offline() {
        let key = make("gh_live_", &format!("{}a", "b".repeat(51)));
        assert_eq!(key_form(&key, &prefixes()), KeyForm::WellFormed);
        let mut typo = key.clone().into_bytes();
        typo[12] = if typo[12] == b'c' { b'd' } else { b'c' };
        assert_eq!(
            key_form(&String::from_utf8(typo).unwrap(), &prefixes()),
            KeyForm::Malformed
        );
        assert_eq!(
            key_form(&key[..key.len() - 1], &prefixes()),
            KeyForm::Malformed
        );
        assert_eq!(key_form(&key.to_uppercase(), &prefixes()), KeyForm::NotAKey);
        assert_eq!(key_form("eyJhbGciOi.x.y", &prefixes()), KeyForm::NotAKey);
    }

    #[test]
    fn allowlists_match_cidr_blocks_and_mapped_addresses() {
        let list = vec!["10.0.0.0/8".to_owned(), "2001:db8::/32".to_owned()];
        assert!(ip_allowed(&list, "10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(&list, "::ffff:10.1.2.3".parse().unwrap()));
        assert!(ip_allowed(&list, "2001:db8::7".parse().unwrap()));
        assert!(!ip_allowed(&list, "11.0.0.1".parse().unwrap()));
        assert!(!ip_allowed(
            &["garbage".to_owned()],
            "10.0.0.1".parse().unwrap()
        ));
        assert!(ip_allowed(&[], "192.0.2.1".parse().unwrap()));
    }
}
