//! Scoring the name a person typed against the name the civil registry (Dukcapil) holds.
//!
//! The guide requires the name to be at least 80% the same ("Nama harus 80% sesuai dengan
//! data Dukcapil") and shows the refusal `Nama lengkap tidak valid 54/95`. Both names are
//! first normalised so that what does not make a name different does not count against
//! it: letter case, spacing, punctuation, academic and religious titles (Drs., Dr., Ir.,
//! H., Hj., S.E., M.M., …) and the pre-1972 spellings (oe, dj, tj, …). The similarity of
//! what remains is a normalised Levenshtein distance from `strsim`, taken in the typed
//! word order and in sorted word order (Dukcapil sometimes stores a family name first),
//! whichever is higher, as a whole percentage.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::error::ErrorCode;

/// The lowest accepted score (0–100). A server setting; the default is the guide's 80.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(try_from = "u8", into = "u8")]
pub struct NameThreshold(u8);

impl NameThreshold {
    pub fn new(percent: u8) -> Option<NameThreshold> {
        (percent <= 100).then_some(NameThreshold(percent))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for NameThreshold {
    fn default() -> Self {
        NameThreshold(80)
    }
}

impl TryFrom<u8> for NameThreshold {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        NameThreshold::new(value).ok_or_else(|| format!("ambang nama harus 0–100, bukan {value}"))
    }
}

impl From<NameThreshold> for u8 {
    fn from(t: NameThreshold) -> u8 {
        t.0
    }
}

/// A score together with the threshold in force when it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NameScore {
    pub score: u8,
    pub threshold: u8,
}

impl NameScore {
    pub fn passes(self) -> bool {
        self.score >= self.threshold
    }

    /// The guide's refusal, e.g. `Berdasarkan pengecekan di DUKCAPIL: Nama lengkap tidak valid 54/95`.
    pub fn mismatch_detail(self) -> String {
        format!("{} {}/{}", ErrorCode::NameMismatch.detail(), self.score, self.threshold)
    }
}

/// Scores `entered` against `registered` and decides it against `threshold`.
pub fn check_name(entered: &str, registered: &str, threshold: NameThreshold) -> NameScore {
    NameScore { score: score(entered, registered), threshold: threshold.get() }
}

/// Similarity of two names after normalisation, 0–100.
pub fn score(entered: &str, registered: &str) -> u8 {
    let a = normalize(entered);
    let b = normalize(registered);
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let in_order = strsim::normalized_levenshtein(&a, &b);
    let sorted = strsim::normalized_levenshtein(&sorted_words(&a), &sorted_words(&b));
    // Floor, not round: 79.6% is not 80%.
    (in_order.max(sorted) * 100.0 + 1e-9).floor().clamp(0.0, 100.0) as u8
}

fn sorted_words(name: &str) -> String {
    let mut words: Vec<&str> = name.split(' ').collect();
    words.sort_unstable();
    words.join(" ")
}

/// Titles written before a name: academic (Dr., Drs., Dra., Ir., Prof.) and religious
/// (H. and Hj. for those who made the hajj, K.H. for clerics, Ust. for teachers).
const PREFIX_TITLES: &[&str] = &["dr", "drs", "dra", "ir", "prof", "h", "hj", "kh", "ust", "ustadz", "hc"];

/// Degrees written after a name (with or without dots), e.g. S.E., S.H., M.M., M.Si.
const SUFFIX_TITLES: &[&str] = &[
    "se", "sh", "st", "ssi", "skom", "spd", "ssos", "sag", "shi", "sip", "sked", "sfarm", "skm", "sst", "sstp", "ssit", "sak", "sikom",
    "spsi", "sthi", "shut", "stp", "mm", "msi", "mkom", "mpd", "mh", "mhum", "mak", "mag", "mt", "mkes", "mse", "msc", "mba", "mec",
    "mappsc", "mpp", "mtr", "phd", "amd", "ak", "ca", "cpa", "mph", "llm", "bsc", "ba", "lc",
];

/// Old (pre-1972) spellings still found in names, mapped to today's: Soekarno → Sukarno,
/// Djoko → Joko, Tjahjo → Cahyo. Applied to both names, so a name spelled either way on
/// either side compares equal.
const OLD_SPELLINGS: &[(&str, &str)] = &[("oe", "u"), ("dj", "j"), ("tj", "c"), ("sj", "sy"), ("nj", "ny"), ("ch", "kh")];

/// The name without the titles written around it, in its own letters: what follows the
/// first comma (degrees, "Budi Santoso, S.E., M.U.P.") and the academic and religious
/// titles before and after ("Drs. H. Budi Santoso" → "Budi Santoso"). Titles go only while a
/// name remains: a person registered simply as "Ir" keeps it. The desktop searches a
/// letter's text for this.
pub fn without_titles(name: &str) -> String {
    titleless_words(name).join(" ")
}

fn titleless_words(name: &str) -> Vec<&str> {
    // Names as the civil registry writes them have no commas.
    let name = name.split(',').next().unwrap_or("");
    // A dotted abbreviation is one word ("s.e." → "se"), so titles can be recognised.
    let key = |w: &str| -> String { w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase() };
    let mut words: Vec<&str> = name.split(char::is_whitespace).filter(|w| w.chars().any(char::is_alphanumeric)).collect();
    while words.len() > 1 && PREFIX_TITLES.contains(&key(words[0]).as_str()) {
        words.remove(0);
    }
    while words.len() > 1 && SUFFIX_TITLES.contains(&key(words[words.len() - 1]).as_str()) {
        words.pop();
    }
    words
}

/// Lower-cases, strips accents, titles and punctuation, maps old spellings, and collapses
/// spaces. The result is words of letters and digits separated by single spaces.
pub fn normalize(name: &str) -> String {
    let words = titleless_words(name);
    // Decompose accents away (é → e) and lower-case; apostrophes join (Ma'ruf → maruf);
    // every other mark separates words (Siti-Nur).
    let words: Vec<String> = words
        .iter()
        .map(|w| {
            let plain: String = w.nfkd().filter(|c| c.is_ascii() || c.is_alphanumeric()).collect();
            plain.to_lowercase().chars().filter(|c| !matches!(c, '\'' | '\u{2019}' | '`')).collect()
        })
        .collect();

    let mut joined = String::new();
    for part in words.iter().flat_map(|w| w.split(|c: char| !c.is_alphanumeric())).filter(|p| !p.is_empty()) {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(part);
    }
    let mut modern = joined;
    for (old, new) in OLD_SPELLINGS {
        modern = modern.replace(old, new);
    }
    modern
}
