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
    split_titles(name).0
}

/// The name's words without its titles, and the titles as typed ("Drs.", "S.E.").
fn split_titles(name: &str) -> (Vec<&str>, Vec<&str>) {
    // Names as the civil registry writes them have no commas: what follows is degrees.
    let mut parts = name.splitn(2, ',');
    let name = parts.next().unwrap_or("");
    let after_comma = parts.next().unwrap_or("");
    // A dotted abbreviation is one word ("s.e." → "se"), so titles can be recognised.
    let key = |w: &str| -> String { w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase() };
    let mut words: Vec<&str> = name.split(char::is_whitespace).filter(|w| w.chars().any(char::is_alphanumeric)).collect();
    let mut titles = Vec::new();
    while words.len() > 1 && PREFIX_TITLES.contains(&key(words[0]).as_str()) {
        titles.push(words.remove(0));
    }
    let mut after = Vec::new();
    while words.len() > 1 && SUFFIX_TITLES.contains(&key(words[words.len() - 1]).as_str()) {
        after.extend(words.pop());
    }
    titles.extend(after.into_iter().rev());
    titles.extend(after_comma.split([',', ' ']).map(str::trim).filter(|t| t.chars().any(char::is_alphanumeric)));
    (words, titles)
}

/// Why a name did not match, told without the registry's spelling (that is the civil
/// registry's data, not the operator's): the typed name as it was compared, what was set
/// aside before comparing, and for each compared word whether the registry's name has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NameExplanation {
    /// The typed name after normalisation: lower case, no accents, today's spelling.
    pub compared: String,
    /// Titles and degrees set aside, as typed (`Drs.`, `S.E.`).
    pub titles: Vec<String>,
    /// Punctuation set aside, each mark once (`.`, `,`, `'`).
    pub punctuation: Vec<String>,
    /// Each compared word and whether the registry's name has it. Empty when the account
    /// asked too often (the answers would let a script spell the registry's name).
    pub words: Vec<NameWord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NameWord {
    pub word: String,
    pub found: bool,
}

/// Explains the comparison of `entered` with `registered` (see [`NameExplanation`]).
pub fn explain(entered: &str, registered: &str) -> NameExplanation {
    let compared = normalize(entered);
    let theirs = normalize(registered);
    let theirs: Vec<&str> = theirs.split(' ').collect();
    let words =
        compared.split(' ').filter(|w| !w.is_empty()).map(|w| NameWord { word: w.to_owned(), found: theirs.contains(&w) }).collect();
    let (_, titles) = split_titles(entered);
    let mut punctuation: Vec<String> = Vec::new();
    for c in entered.chars().filter(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
        if !punctuation.iter().any(|p| p.starts_with(c)) {
            punctuation.push(c.to_string());
        }
    }
    NameExplanation { compared, titles: titles.into_iter().map(str::to_owned).collect(), punctuation, words }
}

impl NameExplanation {
    /// The explanation without the per-word answers (for an account over its hourly share).
    pub fn without_words(mut self) -> NameExplanation {
        self.words.clear();
        self
    }

    /// The explanation as one Indonesian sentence (the outbox's refusals, logs-free).
    pub fn sentence(&self) -> String {
        let mut text = format!("{} “{}”.", NAME_CHECK_WORDS.compared, self.compared);
        let mut aside: Vec<String> = self.titles.iter().map(|t| format!("gelar {t}")).collect();
        if !self.punctuation.is_empty() {
            aside.push(format!("tanda baca “{}”", self.punctuation.join(" ")));
        }
        if !aside.is_empty() {
            text.push_str(&format!(" {}: {}.", NAME_CHECK_WORDS.set_aside, aside.join(", ")));
        }
        let list = |found: bool| self.words.iter().filter(|w| w.found == found).map(|w| w.word.as_str()).collect::<Vec<_>>().join(", ");
        let (missing, present) = (list(false), list(true));
        if !missing.is_empty() {
            text.push_str(&format!(" {}: {missing}.", NAME_CHECK_WORDS.not_found));
        }
        if !present.is_empty() {
            text.push_str(&format!(" {}: {present}.", NAME_CHECK_WORDS.found));
        }
        text
    }
}

/// The words of the name check's explanation, on the form and in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NameCheckWords {
    pub compared: &'static str,
    pub set_aside: &'static str,
    pub found: &'static str,
    pub not_found: &'static str,
    pub hidden: &'static str,
}

pub const NAME_CHECK_WORDS: NameCheckWords = NameCheckWords {
    compared: "Nama yang dibandingkan",
    set_aside: "Dikesampingkan",
    found: "Kata yang ada pada data DUKCAPIL",
    not_found: "Kata yang tidak ada pada data DUKCAPIL",
    hidden: "Rincian per kata tidak ditampilkan untuk sementara karena terlalu banyak percobaan dari akun ini.",
};

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
