//! The sign-in captcha, without a write per challenge: asking for one (anonymous, as often
//! as anyone likes) costs CPU for the image and nothing in the database.
//!
//! A challenge id is `expiry ‖ nonce ‖ tag`, the tag an HMAC-SHA256 of expiry and nonce
//! with the key every replica shares (`server_keys`), so an id cannot be forged or
//! stretched. The answer is not stored anywhere: its characters are derived from the
//! nonce with the same key, and the image is drawn from them. Answering spends the nonce
//! (`captcha_spent`, purged after expiry), so a challenge is answerable once, right or
//! wrong, on any replica.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How long a challenge can be answered.
pub const VALID_MINUTES: i64 = 10;

/// Characters of an answer: no look-alikes (0/O, 1/I/L, 5/S, 2/Z, 8/B).
const ALPHABET: &[char] = &['a', 'c', 'd', 'e', 'f', 'h', 'k', 'm', 'n', 'p', 'r', 't', 'u', 'v', 'w', 'x', 'y', '3', '4', '6', '7', '9'];
const ANSWER_CHARS: usize = 5;
const NONCE_BYTES: usize = 16;
const TAG_BYTES: usize = 16;

/// The shared key (see the module's text).
#[derive(Clone)]
pub struct CaptchaKey(Vec<u8>);

impl std::fmt::Debug for CaptchaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaptchaKey([REDACTED])")
    }
}

/// A challenge as the client gets it.
pub struct Challenge {
    pub id: String,
    pub answer: String,
}

/// A challenge id read back: its nonce (to spend) and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub nonce: String,
    pub expires_at: DateTime<Utc>,
}

impl CaptchaKey {
    pub fn new(key: &str) -> CaptchaKey {
        CaptchaKey(key.as_bytes().to_vec())
    }

    fn mac(&self, purpose: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(purpose);
        for part in parts {
            mac.update(part);
        }
        mac
    }

    /// A new challenge valid until `now` + [`VALID_MINUTES`].
    pub fn challenge(&self, now: DateTime<Utc>) -> Challenge {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
        let expires = (now + Duration::minutes(VALID_MINUTES)).timestamp().to_be_bytes();
        let tag = self.mac(b"captcha-id", &[&expires, &nonce]).finalize().into_bytes();
        let mut id = Vec::with_capacity(8 + NONCE_BYTES + TAG_BYTES);
        id.extend_from_slice(&expires);
        id.extend_from_slice(&nonce);
        id.extend_from_slice(&tag[..TAG_BYTES]);
        Challenge { id: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id), answer: self.answer_of(&nonce) }
    }

    /// The answer of a nonce.
    fn answer_of(&self, nonce: &[u8]) -> String {
        let bytes = self.mac(b"captcha-answer", &[nonce]).finalize().into_bytes();
        bytes.iter().take(ANSWER_CHARS).map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()]).collect()
    }

    /// Reads an id this key signed and that has not expired; `None` for anything else.
    pub fn presented(&self, id: &str, now: DateTime<Utc>) -> Option<Presented> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id.trim()).ok()?;
        if raw.len() != 8 + NONCE_BYTES + TAG_BYTES {
            return None;
        }
        let (expires, rest) = raw.split_at(8);
        let (nonce, tag) = rest.split_at(NONCE_BYTES);
        self.mac(b"captcha-id", &[expires, nonce]).verify_truncated_left(tag).ok()?;
        let expires_at = DateTime::from_timestamp(i64::from_be_bytes(expires.try_into().ok()?), 0)?;
        (expires_at > now).then(|| Presented { nonce: hex::encode(nonce), expires_at })
    }

    /// Whether `answer` (any case, spaces around) is the answer of the presented challenge.
    pub fn is_answer(&self, presented: &Presented, answer: &str) -> bool {
        let Ok(nonce) = hex::decode(&presented.nonce) else { return false };
        let expected = self.answer_of(&nonce);
        let given = answer.trim().to_lowercase();
        // Constant time, as the tags are.
        given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The answer of a challenge id this key signed. For tests and tools that hold the
    /// server's key (a real client cannot compute it); `None` for a forged or expired id.
    pub fn answer_for(&self, id: &str, now: DateTime<Utc>) -> Option<String> {
        let presented = self.presented(id, now)?;
        Some(self.answer_of(&hex::decode(presented.nonce).ok()?))
    }
}

/// Draws `answer` as a PNG: waved letters, noise and dots (harder than the crate's Easy).
pub fn image(answer: &str) -> Vec<u8> {
    use captcha::filters::{Dots, Noise, Wave};
    let mut c = captcha::Captcha::new();
    for ch in answer.chars() {
        c.set_chars(&[ch]);
        c.add_char();
    }
    c.apply_filter(Noise::new(0.3))
        .apply_filter(Wave::new(2.0, 16.0))
        .view(220, 120)
        .apply_filter(Dots::new(12).max_radius(6).min_radius(3));
    c.as_png().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_answered_by_its_own_answer_only() {
        let key = CaptchaKey::new("kunci-uji");
        let now = Utc::now();
        let challenge = key.challenge(now);
        let presented = key.presented(&challenge.id, now).expect("our own id");
        assert!(key.is_answer(&presented, &challenge.answer.to_uppercase()));
        assert!(!key.is_answer(&presented, ""));
        assert!(!key.is_answer(&presented, "xxxxx"));
        assert_eq!(key.answer_for(&challenge.id, now).as_deref(), Some(challenge.answer.as_str()));
        // Another key, a changed byte, an expired id: not ours.
        assert!(CaptchaKey::new("kunci-lain").presented(&challenge.id, now).is_none());
        let mut forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&challenge.id).unwrap();
        forged[3] ^= 1;
        assert!(key.presented(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged), now).is_none());
        assert!(key.presented(&challenge.id, now + Duration::minutes(VALID_MINUTES + 1)).is_none());
        assert!(key.presented("bukan-id", now).is_none());
    }

    #[test]
    fn every_answer_character_can_be_drawn() {
        let supported = captcha::Captcha::new().supported_chars();
        for ch in ALPHABET {
            assert!(supported.contains(ch), "{ch} is not in the captcha font");
        }
        assert!(image("ac3dk").starts_with(b"\x89PNG"));
    }
}
