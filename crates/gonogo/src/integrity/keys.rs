//! The keys and values of an integrity phase, recomputable from the phase's token
//! and each write's sequence number — so the ledger stores neither.
//!
//! Owns: the token (8 random hex characters per phase run, so a rerun against data
//! kept from an earlier run cannot mask a loss), the key `gng-<token>-<seq>`, the
//! value `<token>-<seq>-<check>` (six check digits from a hash of both, so a value
//! from another key or run never matches by accident), and parsing a listed key back
//! to its sequence number. Does not own: sending them anywhere.

use rand::Rng;

/// A fresh token: 8 lowercase hex characters.
pub fn new_token(rng: &mut impl Rng) -> String {
    format!("{:08x}", rng.random::<u32>())
}

/// Every key of the phase starts with this.
pub fn prefix(token: &str) -> String {
    format!("gng-{token}-")
}

/// The key of write `seq`.
pub fn key(token: &str, seq: u64) -> String {
    format!("gng-{token}-{seq}")
}

/// The value of write `seq`.
pub fn value(token: &str, seq: u64) -> String {
    format!("{token}-{seq}-{:06}", check(token, seq))
}

/// The sequence number of a listed key of the phase; `None` for a key that is not
/// one gonogo could have made under this prefix.
pub fn seq_of(prefix: &str, key: &str) -> Option<u64> {
    let digits = key.strip_prefix(prefix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "007" is not a key gonogo writes.
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// Six decimal check digits: FNV-1a (64 bit) of `token-seq`, modulo 10⁶.
fn check(token: &str, seq: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in token
        .bytes()
        .chain(*b"-")
        .chain(seq.to_string().into_bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash % 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_follow_from_token_and_seq() {
        assert_eq!(key("0badcafe", 42), "gng-0badcafe-42");
        let v = value("0badcafe", 42);
        assert!(v.starts_with("0badcafe-42-") && v.len() == "0badcafe-42-".len() + 6);
        assert_eq!(v, value("0badcafe", 42), "deterministic");
        assert_ne!(v, value("0badcafe", 43));
        assert_ne!(
            value("0badcafe", 1).rsplit('-').next(),
            value("0badcafe", 2).rsplit('-').next(),
            "the check digits differ between neighbours"
        );
    }

    #[test]
    fn tokens_are_eight_hex_characters() {
        let token = new_token(&mut rand::rng());
        assert_eq!(token.len(), 8);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn listed_keys_parse_back_to_their_seq_only_when_gonogo_could_have_made_them() {
        let p = prefix("0badcafe");
        assert_eq!(seq_of(&p, &key("0badcafe", 7)), Some(7));
        assert_eq!(seq_of(&p, "gng-0badcafe-0"), Some(0));
        assert_eq!(seq_of(&p, "gng-0badcafe-07"), None);
        assert_eq!(seq_of(&p, "gng-0badcafe-"), None);
        assert_eq!(seq_of(&p, "gng-0badcafe-x1"), None);
        assert_eq!(seq_of(&p, "gng-12345678-1"), None);
    }
}
