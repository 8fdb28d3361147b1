//! The crafted corpus in `tests/pdf/`: every file must get the answer its name states,
//! and none may panic the check.

use std::path::{Path, PathBuf};

use lopdf::dictionary;
use myintress_core::error::{Coded, ErrorCode};
use myintress_core::pdf::{self, ActiveContent, MAX_DOCUMENT_BYTES, Parser, PdfError, check, check_envelope};

fn corpus(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdf").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {dir} is empty");
    files
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn letter_corpus_accepted_files_are_accepted() {
    for path in corpus("accepted") {
        let bytes = std::fs::read(&path).unwrap();
        let report = check(&bytes).unwrap_or_else(|e| panic!("{} refused: {e:?}", name(&path)));
        assert!(report.pages >= 1, "{}", name(&path));
    }
}

#[test]
fn letter_corpus_bad_files_get_the_refusal_their_name_states() {
    for path in corpus("bad") {
        let bytes = std::fs::read(&path).unwrap();
        let file = name(&path);
        let expected = match file.split('-').next().unwrap() {
            "not_pdf" => ErrorCode::LetterNotPdf,
            "unreadable" => ErrorCode::LetterUnreadable,
            "encrypted" => ErrorCode::LetterEncrypted,
            "active_content" => ErrorCode::LetterActiveContent,
            other => panic!("{file}: unknown prefix {other}"),
        };
        match check(&bytes) {
            Ok(report) => panic!("{file} accepted ({report:?}), expected {expected}"),
            Err(e) => assert_eq!(e.code(), expected, "{file}: {e:?}"),
        }
    }
}

#[test]
fn letter_owner_password_only_is_accepted_even_where_pdf_rs_fails() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdf/accepted/owner-only-aes128-p-unsigned.pdf");
    let report = check(&std::fs::read(path).unwrap()).unwrap();
    assert!(report.owner_password_only);
    assert_eq!(report.parser, Parser::Lopdf, "pdf 0.10 cannot read an unsigned /P, lopdf must have");
    assert!(report.text.contains("3171011201900001"), "text after decryption: {:?}", report.text);
}

#[test]
fn letter_active_content_is_reported_with_its_kind() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdf");
    let refused = |f: &str| match check(&std::fs::read(dir.join(f)).unwrap()) {
        Err(PdfError::ActiveContent { found }) => found,
        other => panic!("{f}: {other:?}"),
    };
    assert_eq!(refused("bad/active_content-launch-action.pdf"), vec![ActiveContent::Launch]);
    assert_eq!(refused("bad/active_content-xfa-form.pdf"), vec![ActiveContent::Xfa]);
    assert_eq!(refused("bad/active_content-javascript-openaction.pdf"), vec![ActiveContent::JavaScript]);

    let attached = check(&std::fs::read(dir.join("accepted/embedded-file.pdf")).unwrap()).unwrap();
    assert_eq!(attached.active_content, vec![ActiveContent::EmbeddedFile]);
    let destination = check(&std::fs::read(dir.join("accepted/openaction-destination.pdf")).unwrap()).unwrap();
    assert_eq!(destination.active_content, vec![], "a destination array is not an action");
}

#[test]
fn letter_refusals_read_in_indonesian() {
    let e = check(b"GIF89a").unwrap_err();
    assert_eq!(e.detail(), "Dokumen ST harus berupa file PDF");
    assert_eq!(ErrorCode::LetterTooLarge.detail(), "Ukuran dokumen ST maksimal 5MB");
    let active = PdfError::ActiveContent { found: vec![ActiveContent::JavaScript] };
    assert_eq!(active.detail(), "Dokumen PDF berisi konten aktif yang tidak diizinkan: berisi JavaScript");
}

/// A valid one-page PDF padded with an unused stream to exactly `size` bytes.
fn pdf_of_size(size: usize) -> Vec<u8> {
    let build = |pad: usize| -> Vec<u8> {
        let objs: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>".to_vec(),
            [format!("<< /Length {pad} >>\nstream\n").into_bytes(), vec![b'0'; pad], b"\nendstream".to_vec()].concat(),
        ];
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (i, o) in objs.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend(o);
            out.extend(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
        for o in offsets {
            out.extend(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1).as_bytes());
        out
    };
    // The padding's decimal length changes the header, so converge in two steps.
    let base = build(0).len();
    let mut pad = size - base;
    let mut bytes = build(pad);
    while bytes.len() != size {
        pad = (pad as isize + size as isize - bytes.len() as isize) as usize;
        bytes = build(pad);
    }
    bytes
}

#[test]
fn letter_at_most_5_mib() {
    assert_eq!(MAX_DOCUMENT_BYTES, 5 * 1024 * 1024);
    let exactly = pdf_of_size(MAX_DOCUMENT_BYTES);
    assert_eq!(exactly.len(), 5_242_880);
    assert!(check(&exactly).is_ok(), "exactly 5 MiB is allowed");
    let over = pdf_of_size(MAX_DOCUMENT_BYTES + 1);
    assert_eq!(check(&over).unwrap_err(), PdfError::TooLarge { size: 5_242_881 });
    assert_eq!(check_envelope(&over).unwrap_err().code(), ErrorCode::LetterTooLarge);
}

#[test]
fn letter_is_required() {
    assert_eq!(check(b"").unwrap_err(), PdfError::Empty);
    assert_eq!(PdfError::Empty.code(), ErrorCode::FieldRequired);
}

#[test]
fn letter_check_child_process_protocol_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdf");
    for file in ["accepted/minimal-hand-written.pdf", "bad/encrypted-user-password-aes256.pdf"] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let wire = pdf::check_wire(&bytes);
        assert_eq!(pdf::parse_wire(wire.as_bytes()).unwrap(), check(&bytes), "{file}");
    }
    assert!(pdf::parse_wire(b"Segmentation fault").is_err());
}

#[test]
fn letter_mentions_find_nik_name_and_number() {
    let text = "SURAT TUGAS\nNomor: ST-12/KPPN.0301/2026\nNama : Drs. BUDI SANTOSO, M.M.\nNIK  : 3171 0112 0190 0001";
    let m = pdf::find_mentions(text, "3171011201900001", "Budi Santoso", "st-12/kppn.0301/2026");
    assert!(m.nik && m.name && m.letter_number, "{m:?}");
    let none = pdf::find_mentions(text, "3171011201900002", "Ahmad Fauzi", "ST-13/KPPN.0301/2026");
    assert!(!none.nik && !none.name && !none.letter_number, "{none:?}");
}

/// A letter whose content stream is a decompression bomb: a few hundred kilobytes that
/// inflate past the limit. Refused as `letter_bomb` before anything inflates it for real.
#[test]
fn a_decompression_bomb_is_refused() {
    // Raw deflate blocks of 1 MiB of zeros each, ended by a sync flush (byte-aligned), so
    // copies of one block make a longer valid stream; behind a zlib header.
    let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(4096);
    deflate.compress_vec(&vec![0u8; 1024 * 1024], &mut block, flate2::FlushCompress::Sync).unwrap();
    let copies = (pdf::MAX_INFLATED_BYTES / (1024 * 1024)) as usize + 16;
    let mut stream = vec![0x78, 0xDA];
    for _ in 0..copies {
        stream.extend_from_slice(&block);
    }
    let bytes = one_page_pdf(&stream);
    assert!(bytes.len() < MAX_DOCUMENT_BYTES, "{} bytes", bytes.len());
    match check(&bytes) {
        Err(e @ PdfError::Bomb { .. }) => assert_eq!(e.code(), ErrorCode::LetterBomb),
        other => panic!("a bomb must be refused: {other:?}"),
    }
    // The same page with an honest stream is a letter.
    let mut honest = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut honest, b"BT /F1 12 Tf 72 720 Td (Surat Tugas) Tj ET").unwrap();
    assert!(check(&one_page_pdf(&honest.finish().unwrap())).is_ok());
}

#[test]
fn too_many_objects_are_refused() {
    let mut doc = lopdf::Document::with_version("1.7");
    let pages = doc.new_object_id();
    for n in 0..pdf::MAX_OBJECTS {
        doc.add_object(lopdf::Object::Integer(n as i64));
    }
    let page =
        doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] });
    doc.objects.insert(pages, lopdf::Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    assert!(bytes.len() < MAX_DOCUMENT_BYTES, "{} bytes", bytes.len());
    assert_eq!(check(&bytes).unwrap_err().code(), ErrorCode::LetterBomb);
}

/// A one-page PDF whose page content is `content`, already Flate-compressed.
fn one_page_pdf(content: &[u8]) -> Vec<u8> {
    let mut doc = lopdf::Document::with_version("1.7");
    let pages = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let stream = lopdf::Stream::new(dictionary! { "Filter" => "FlateDecode" }, content.to_vec()).with_compression(false);
    let contents = doc.add_object(stream);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => contents,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(pages, lopdf::Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}
