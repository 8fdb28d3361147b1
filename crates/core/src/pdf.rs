//! Checks on an uploaded letter (ST / SK / ND) or deletion decree, on its bytes.
//!
//! The rules (guide §3): exactly one PDF, at most 5 MB. On top of them: it must parse,
//! have at least one page, and open without a password. A PDF with only an *owner*
//! password (printing or copying restricted) opens in every viewer and is accepted; a
//! *user* password is refused because the verifier could not read it.
//!
//! A letter that ordinary viewers open must never be refused, so two independent parsers
//! are used: the `pdf` crate first, and `lopdf` for anything `pdf` cannot read (it fails,
//! for instance, on AES-256 owner-only encryption and on a `/P` written as an unsigned
//! number). Only when both fail is the letter unreadable. `lopdf` also extracts the text,
//! so the verifier's screen can show whether the letter names the person.
//!
//! Active content (JavaScript, launch actions, embedded files, XFA forms, automatic
//! actions) is reported from the parsed objects; [`ActiveContent::is_refused`] says which
//! kinds make a letter unacceptable.
//!
//! Parsers of hostile input can crash: each parser call runs under `catch_unwind`, and the
//! server additionally runs [`check_wire`] in a child process with time and memory limits
//! (see ARCHITECTURE.md), because a stack overflow or an allocation failure cannot be
//! caught in-process.

use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde::{Deserialize, Serialize};

use crate::error::{Coded, ErrorCode};

/// The largest accepted document: 5 MB as the guide means it, 5 × 1024 × 1024 bytes.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;

/// How deep the active-content scan follows nested dictionaries and arrays. Real files
/// nest a handful of levels; the limit keeps a crafted file from exhausting the stack.
const MAX_SCAN_DEPTH: usize = 64;

/// Most text kept from a letter: enough for any letter and its attachment, bounded so a
/// huge text layer does not bloat the stored report.
const MAX_TEXT_CHARS: usize = 200_000;

/// All Flate streams of a document together may inflate to at most this (a scanned A4
/// page at 300 dpi in RGB is about 25 MB; a 5 MB letter of many such pages fits).
pub const MAX_INFLATED_BYTES: u64 = 256 * 1024 * 1024;

/// At most this many objects (a long letter has hundreds; each costs the viewers memory).
pub const MAX_OBJECTS: usize = 50_000;

/// Which parser read the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Parser {
    PdfRs,
    Lopdf,
}

/// A kind of active content found in the document's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ActiveContent {
    /// A JavaScript action or name tree (`/JS`, `/S /JavaScript`, `/Names /JavaScript`).
    JavaScript,
    /// An action run when the document opens (`/OpenAction` with an action dictionary;
    /// a plain destination, which only sets the first view, does not count).
    OpenAction,
    /// Additional actions triggered by events (`/AA`).
    AdditionalActions,
    /// An action that starts a program (`/S /Launch`).
    Launch,
    /// An attached file (`/EmbeddedFiles`, `/EF`, `/Type /EmbeddedFile`).
    EmbeddedFile,
    /// An XFA form (`/XFA`), which only some viewers run.
    Xfa,
}

impl ActiveContent {
    /// Executable content is refused: a letter has no need for it and it is how PDFs
    /// carry malware. Attachments and automatic navigation are only reported, because
    /// real documents carry them (PDF/A-3 forms with their data, letters with a scanned
    /// attachment).
    pub fn is_refused(self) -> bool {
        matches!(self, ActiveContent::JavaScript | ActiveContent::Launch | ActiveContent::Xfa)
    }

    /// What the verifier reads about it.
    pub fn label(self) -> &'static str {
        match self {
            ActiveContent::JavaScript => "berisi JavaScript",
            ActiveContent::OpenAction => "menjalankan tindakan saat dibuka",
            ActiveContent::AdditionalActions => "berisi tindakan otomatis",
            ActiveContent::Launch => "dapat menjalankan program lain",
            ActiveContent::EmbeddedFile => "berisi lampiran file tersemat",
            ActiveContent::Xfa => "berisi formulir XFA",
        }
    }
}

/// What the check learned about an accepted document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PdfReport {
    pub pages: u32,
    /// Whether the file is encrypted with an owner password only (it opens without one).
    pub owner_password_only: bool,
    pub parser: Parser,
    /// Active content found; none of it is of a refused kind.
    pub active_content: Vec<ActiveContent>,
    /// The text layer, page after page. Empty for scans without OCR.
    pub text: String,
    /// The electronic signatures found, in file order (their verdicts come from
    /// [`crate::signature::evaluate`] with a trust list).
    #[serde(default)]
    pub signatures: Vec<crate::signature::SignatureFacts>,
    /// The links of the QR codes on the pages' images.
    #[serde(default)]
    pub qr_links: Vec<crate::qr::QrLink>,
    /// The first page when it is a plain scan: one JPEG over the whole page, which the
    /// viewer shows from that JPEG before pdf.js has read the letter ([`crate::scan`]).
    #[serde(default)]
    pub first_page_image: Option<crate::scan::PageImage>,
}

/// Why a document is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PdfError {
    #[error("dokumen kosong")]
    Empty,
    #[error("dokumen bukan PDF")]
    NotPdf,
    #[error("dokumen {size} byte, lebih dari 5MB")]
    TooLarge { size: usize },
    #[error("dokumen dilindungi kata sandi")]
    Encrypted,
    #[error("dokumen tidak memiliki halaman")]
    NoPages,
    #[error("dokumen tidak dapat dibaca: {reason}")]
    Unreadable { reason: String },
    #[error("dokumen berisi konten aktif yang tidak diizinkan: {found:?}")]
    ActiveContent { found: Vec<ActiveContent> },
    /// Streams that inflate beyond [`MAX_INFLATED_BYTES`], or more than [`MAX_OBJECTS`]
    /// objects: every desktop that opens it would pay for it.
    #[error("dokumen mengembang melebihi batas: {reason}")]
    Bomb { reason: String },
}

impl Coded for PdfError {
    fn code(&self) -> ErrorCode {
        match self {
            PdfError::Empty => ErrorCode::FieldRequired,
            PdfError::NotPdf => ErrorCode::LetterNotPdf,
            PdfError::TooLarge { .. } => ErrorCode::LetterTooLarge,
            PdfError::Encrypted => ErrorCode::LetterEncrypted,
            PdfError::NoPages | PdfError::Unreadable { .. } => ErrorCode::LetterUnreadable,
            PdfError::ActiveContent { .. } => ErrorCode::LetterActiveContent,
            PdfError::Bomb { .. } => ErrorCode::LetterBomb,
        }
    }

    fn detail(&self) -> String {
        match self {
            PdfError::NoPages => format!("{} (tidak ada halaman)", ErrorCode::LetterUnreadable.detail()),
            PdfError::ActiveContent { found } => {
                let kinds: Vec<&str> = found.iter().map(|k| k.label()).collect();
                format!("{}: {}", ErrorCode::LetterActiveContent.detail(), kinds.join(", "))
            }
            other => other.code().detail().to_owned(),
        }
    }
}

/// The cheap checks that need no parsing: present, at most 5 MB, and a PDF header at
/// offset 0. The desktop app runs these the moment a file is chosen.
pub fn check_envelope(bytes: &[u8]) -> Result<(), PdfError> {
    if bytes.is_empty() {
        return Err(PdfError::Empty);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(PdfError::TooLarge { size: bytes.len() });
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    Ok(())
}

/// The full check of a letter or decree. Never panics; a parser panic becomes
/// [`PdfError::Unreadable`].
pub fn check(bytes: &[u8]) -> Result<PdfReport, PdfError> {
    check_envelope(bytes)?;
    if !ends_with_eof_marker(bytes) {
        return Err(PdfError::Unreadable { reason: "dokumen terpotong: penanda %%EOF tidak ada di akhir file".into() });
    }

    // lopdf first: it also measures what the streams inflate to, before anything (its own
    // text extraction, the other parser, a viewer) inflates them.
    let secondary = guarded(|| read_with_lopdf(bytes));
    if let Err(ReadError::Bomb(reason)) = secondary {
        return Err(PdfError::Bomb { reason });
    }
    let primary = guarded(|| read_with_pdf_rs(bytes));

    let (chosen, text, signatures, qr_links, first_page_image) = match (primary, secondary) {
        // Both read it: trust the primary for structure, take the text, the signatures, the
        // QR codes and the scanned first page from lopdf.
        (Ok(p), Ok(s)) => (p, s.text, s.signatures, s.qr_links, s.first_page_image),
        (Ok(p), Err(_)) => (p, String::new(), Vec::new(), Vec::new(), None),
        (Err(_), Ok(s)) => {
            let (text, signatures, qr_links) = (s.text.clone(), s.signatures.clone(), s.qr_links.clone());
            let first_page_image = s.first_page_image;
            (s, text, signatures, qr_links, first_page_image)
        }
        (Err(p), Err(s)) => {
            // Refuse as encrypted only when a parser says so; otherwise unreadable.
            return Err(if p == ReadError::Password || s == ReadError::Password {
                PdfError::Encrypted
            } else if p == ReadError::NoPages || s == ReadError::NoPages {
                PdfError::NoPages
            } else {
                PdfError::Unreadable { reason: format!("{p}; {s}") }
            });
        }
    };

    let refused: Vec<ActiveContent> = chosen.active_content.iter().copied().filter(|k| k.is_refused()).collect();
    if !refused.is_empty() {
        return Err(PdfError::ActiveContent { found: refused });
    }

    Ok(PdfReport {
        pages: chosen.pages,
        owner_password_only: chosen.encrypted,
        parser: chosen.parser,
        active_content: chosen.active_content.into_iter().collect(),
        text: text.chars().take(MAX_TEXT_CHARS).collect(),
        signatures,
        qr_links,
        first_page_image,
    })
}

/// Whether `%%EOF` appears in the last 1024 bytes, where every producer writes it and
/// Acrobat looks for it. Its absence is the mark of an upload cut short, which the lenient
/// parsers would otherwise half-read.
fn ends_with_eof_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    tail.windows(5).any(|w| w == b"%%EOF")
}

/// What a child process prints after checking the bytes on its stdin: the whole outcome
/// as JSON. The server's child runs `check_wire(&stdin)` and writes the result to stdout;
/// the parent reads it back with [`parse_wire`].
pub fn check_wire(bytes: &[u8]) -> String {
    wire_of(check(bytes))
}

/// An outcome in the wire form [`check_wire`] prints.
pub fn wire_of(outcome: Result<PdfReport, PdfError>) -> String {
    serde_json::to_string(&WireOutcome::from(outcome)).expect("report serialises")
}

/// Reads what [`check_wire`] printed.
pub fn parse_wire(output: &[u8]) -> Result<Result<PdfReport, PdfError>, String> {
    serde_json::from_slice::<WireOutcome>(output).map(Into::into).map_err(|e| format!("keluaran pemeriksa PDF tidak dikenali: {e}"))
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireOutcome {
    Accepted(PdfReport),
    Refused(PdfError),
}

impl From<Result<PdfReport, PdfError>> for WireOutcome {
    fn from(r: Result<PdfReport, PdfError>) -> Self {
        match r {
            Ok(report) => WireOutcome::Accepted(report),
            Err(e) => WireOutcome::Refused(e),
        }
    }
}

impl From<WireOutcome> for Result<PdfReport, PdfError> {
    fn from(w: WireOutcome) -> Self {
        match w {
            WireOutcome::Accepted(r) => Ok(r),
            WireOutcome::Refused(e) => Err(e),
        }
    }
}

/// Whether the letter's text names this person: the NIK (spaces ignored), the name
/// (normalised as for matching) and the letter number (case and spacing ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LetterMentions {
    pub nik: bool,
    pub name: bool,
    pub letter_number: bool,
}

pub fn find_mentions(text: &str, nik: &str, name: &str, letter_number: &str) -> LetterMentions {
    let digits_only: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let name_norm = crate::name_match::normalize(name);
    let text_norm = crate::name_match::normalize(text);
    let squash = |s: &str| -> String { s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase() };
    LetterMentions {
        nik: !nik.is_empty() && digits_only.contains(nik),
        name: !name_norm.is_empty() && text_norm.contains(&name_norm),
        letter_number: !letter_number.trim().is_empty() && squash(text).contains(&squash(letter_number)),
    }
}

// ---------------------------------------------------------------------------------------
// Reading with either parser into one shape.

struct Reading {
    parser: Parser,
    pages: u32,
    encrypted: bool,
    active_content: BTreeSet<ActiveContent>,
    text: String,
    signatures: Vec<crate::signature::SignatureFacts>,
    qr_links: Vec<crate::qr::QrLink>,
    first_page_image: Option<crate::scan::PageImage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ReadError {
    Password,
    NoPages,
    Failed(String),
    Bomb(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Password => f.write_str("kata sandi diperlukan"),
            ReadError::NoPages => f.write_str("tanpa halaman"),
            ReadError::Failed(s) | ReadError::Bomb(s) => f.write_str(s),
        }
    }
}

fn guarded(read: impl FnOnce() -> Result<Reading, ReadError>) -> Result<Reading, ReadError> {
    catch_unwind(AssertUnwindSafe(read)).unwrap_or_else(|_| Err(ReadError::Failed("parser panic".into())))
}

fn read_with_pdf_rs(bytes: &[u8]) -> Result<Reading, ReadError> {
    use pdf::file::{FileOptions, ScanItem};

    let file = FileOptions::cached()
        .load(bytes.to_vec())
        .map_err(|e| if is_password_error(&e) { ReadError::Password } else { ReadError::Failed(short(&e.to_string())) })?;
    let mut pages = 0u32;
    for page in file.pages() {
        page.map_err(|e| ReadError::Failed(short(&e.to_string())))?;
        pages += 1;
    }
    if pages == 0 {
        return Err(ReadError::NoPages);
    }
    let encrypted = file.trailer.encrypt_dict.is_some();

    let mut tree = Tree::default();
    for item in file.scan() {
        match item {
            Ok(ScanItem::Object(r, prim)) => {
                let node = from_pdf_rs(&prim, 0);
                tree.objects.insert(r.id, node);
            }
            Ok(ScanItem::Trailer(dict)) => tree.roots.push(from_pdf_rs(&pdf::primitive::Primitive::Dictionary(dict), 0)),
            // An object that does not parse cannot run either; the page tree above parsed.
            Err(_) => {}
        }
    }
    Ok(Reading {
        parser: Parser::PdfRs,
        pages,
        encrypted,
        active_content: tree.scan(),
        text: String::new(),
        signatures: Vec::new(),
        qr_links: Vec::new(),
        first_page_image: None,
    })
}

fn is_password_error(e: &pdf::error::PdfError) -> bool {
    match e {
        pdf::error::PdfError::InvalidPassword => true,
        pdf::error::PdfError::Try { source, .. } => is_password_error(source),
        pdf::error::PdfError::Shared { source } => is_password_error(source),
        _ => false,
    }
}

fn read_with_lopdf(bytes: &[u8]) -> Result<Reading, ReadError> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| match e {
        lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => ReadError::Password,
        other => ReadError::Failed(short(&other.to_string())),
    })?;
    // lopdf keeps a document it could not decrypt with the empty password loaded but
    // still encrypted: that is a user password.
    if doc.is_encrypted() {
        return Err(ReadError::Password);
    }
    inflation_guard(&doc)?;
    let page_numbers: Vec<u32> = doc.get_pages().keys().copied().collect();
    if page_numbers.is_empty() {
        return Err(ReadError::NoPages);
    }
    let mut tree = Tree::default();
    for (id, obj) in &doc.objects {
        tree.objects.insert(id.0 as u64, from_lopdf(obj, 0));
    }
    tree.roots.push(from_lopdf(&lopdf::Object::Dictionary(doc.trailer.clone()), 0));

    // A page whose text cannot be decoded leaves a gap, not a refusal.
    let text: String = doc.extract_text_chunks(&page_numbers).into_iter().filter_map(Result::ok).collect::<Vec<_>>().join("\n");
    Ok(Reading {
        parser: Parser::Lopdf,
        pages: page_numbers.len() as u32,
        encrypted: doc.was_encrypted(),
        active_content: tree.scan(),
        text,
        // A fault in reading a signature or an image costs that finding, not the letter.
        signatures: catch_unwind(AssertUnwindSafe(|| crate::signature::facts(bytes, &doc))).unwrap_or_default(),
        qr_links: catch_unwind(AssertUnwindSafe(|| crate::qr::links(&doc))).unwrap_or_default(),
        first_page_image: catch_unwind(AssertUnwindSafe(|| crate::scan::first_page_image(bytes, &doc))).unwrap_or_default(),
    })
}

/// Counts the objects and inflates every Flate stream into nothing, stopping at the
/// limits: a decompression bomb is refused having cost at most [`MAX_INFLATED_BYTES`] of
/// work and no memory.
fn inflation_guard(doc: &lopdf::Document) -> Result<(), ReadError> {
    if doc.objects.len() > MAX_OBJECTS {
        return Err(ReadError::Bomb(format!("{} objek, batas {MAX_OBJECTS}", doc.objects.len())));
    }
    let mut budget = MAX_INFLATED_BYTES;
    for object in doc.objects.values() {
        let lopdf::Object::Stream(stream) = object else { continue };
        let flate = match stream.dict.get(b"Filter") {
            Ok(lopdf::Object::Name(name)) => name == b"FlateDecode" || name == b"Fl",
            Ok(lopdf::Object::Array(filters)) => {
                matches!(filters.first(), Some(lopdf::Object::Name(name)) if name == b"FlateDecode" || name == b"Fl")
            }
            _ => false,
        };
        if !flate {
            continue;
        }
        // One byte past the budget is enough to know.
        let mut inflater = std::io::Read::take(flate2::read::ZlibDecoder::new(stream.content.as_slice()), budget + 1);
        // A stream that is corrupt part-way counts what it gave until then.
        let _ = std::io::copy(&mut inflater, &mut std::io::sink());
        let inflated = budget + 1 - inflater.limit();
        if inflated > budget {
            return Err(ReadError::Bomb(format!("aliran data mengembang melebihi {} MB", MAX_INFLATED_BYTES / (1024 * 1024))));
        }
        budget -= inflated;
    }
    Ok(())
}

fn short(message: &str) -> String {
    message.lines().next().unwrap_or("").chars().take(200).collect()
}

// ---------------------------------------------------------------------------------------
// A parser-neutral view of the objects, enough to look for active content.

#[derive(Debug, Clone)]
enum Node {
    Dict(Vec<(String, Node)>),
    Array(Vec<Node>),
    Name(String),
    Ref(u64),
    Other,
}

#[derive(Default)]
struct Tree {
    objects: HashMap<u64, Node>,
    roots: Vec<Node>,
}

impl Tree {
    fn scan(&self) -> BTreeSet<ActiveContent> {
        let mut found = BTreeSet::new();
        for node in self.objects.values().chain(self.roots.iter()) {
            self.visit(node, 0, &mut found);
        }
        found
    }

    fn visit(&self, node: &Node, depth: usize, found: &mut BTreeSet<ActiveContent>) {
        if depth > MAX_SCAN_DEPTH {
            return;
        }
        match node {
            Node::Dict(entries) => {
                for (key, value) in entries {
                    match key.as_str() {
                        "JS" | "JavaScript" => {
                            found.insert(ActiveContent::JavaScript);
                        }
                        "S" => match value {
                            Node::Name(n) if n == "JavaScript" => {
                                found.insert(ActiveContent::JavaScript);
                            }
                            Node::Name(n) if n == "Launch" => {
                                found.insert(ActiveContent::Launch);
                            }
                            _ => {}
                        },
                        "EmbeddedFiles" | "EF" => {
                            found.insert(ActiveContent::EmbeddedFile);
                        }
                        "Type" if matches!(value, Node::Name(n) if n == "EmbeddedFile") => {
                            found.insert(ActiveContent::EmbeddedFile);
                        }
                        "XFA" => {
                            found.insert(ActiveContent::Xfa);
                        }
                        "AA" => {
                            found.insert(ActiveContent::AdditionalActions);
                        }
                        "OpenAction" if self.is_action(value) => {
                            found.insert(ActiveContent::OpenAction);
                        }
                        _ => {}
                    }
                    self.visit(value, depth + 1, found);
                }
            }
            Node::Array(items) => {
                for item in items {
                    self.visit(item, depth + 1, found);
                }
            }
            Node::Name(_) | Node::Ref(_) | Node::Other => {}
        }
    }

    /// An `/OpenAction` is an action when it is a dictionary (directly or by reference);
    /// an array is a destination (which page to show first) and runs nothing.
    fn is_action(&self, value: &Node) -> bool {
        match value {
            Node::Dict(_) => true,
            Node::Ref(id) => matches!(self.objects.get(id), Some(Node::Dict(_))),
            _ => false,
        }
    }
}

fn from_pdf_rs(prim: &pdf::primitive::Primitive, depth: usize) -> Node {
    use pdf::primitive::Primitive;
    if depth > MAX_SCAN_DEPTH {
        return Node::Other;
    }
    match prim {
        Primitive::Dictionary(d) => Node::Dict(d.iter().map(|(k, v)| (k.as_str().to_owned(), from_pdf_rs(v, depth + 1))).collect()),
        Primitive::Stream(s) => Node::Dict(s.info.iter().map(|(k, v)| (k.as_str().to_owned(), from_pdf_rs(v, depth + 1))).collect()),
        Primitive::Array(items) => Node::Array(items.iter().map(|v| from_pdf_rs(v, depth + 1)).collect()),
        Primitive::Name(n) => Node::Name(n.as_str().to_owned()),
        Primitive::Reference(r) => Node::Ref(r.id),
        _ => Node::Other,
    }
}

fn from_lopdf(obj: &lopdf::Object, depth: usize) -> Node {
    use lopdf::Object;
    if depth > MAX_SCAN_DEPTH {
        return Node::Other;
    }
    let dict = |d: &lopdf::Dictionary| {
        Node::Dict(d.iter().map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), from_lopdf(v, depth + 1))).collect())
    };
    match obj {
        Object::Dictionary(d) => dict(d),
        Object::Stream(s) => dict(&s.dict),
        Object::Array(items) => Node::Array(items.iter().map(|v| from_lopdf(v, depth + 1)).collect()),
        Object::Name(n) => Node::Name(String::from_utf8_lossy(n).into_owned()),
        Object::Reference((id, _)) => Node::Ref(*id as u64),
        _ => Node::Other,
    }
}
