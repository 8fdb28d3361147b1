//! Demo data, made by the project's own code: reference lists, a residents file for the
//! Dukcapil simulator, letter PDFs, a KPPN verifier, a satker operator and registrations
//! in several states, all through the same registry flows as real requests.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use myintress_core::api::{NewVerifier, Role};
use myintress_core::nik::{Sex, encode_birth_date};
use myintress_core::registration::RegistrationInput;
use myintress_core::scope::Scope;
use myintress_core::status::{Action, Route};

use crate::admin::By;
use crate::credentials::hash_password;
use crate::registry::{self, Caller, CheckedPdf, RequestCtx};
use crate::state::AppState;
use crate::store::{AccountRow, ScopeFilter};

pub const VERIFIER_NIK: &str = "3171014501850002";
pub const VERIFIER_PASSWORD: &str = "Verifikasi#KPPN019";
pub const OPERATOR_NIK: &str = "3171011203880001";
pub const OPERATOR_PASSWORD: &str = "Satker#Budi2026";
pub const OTHER_VERIFIER_NIK: &str = "3273015708870003";
pub const ADMIN_NIK: &str = "3171010607800005";
pub const ADMIN_PASSWORD: &str = "Pengelola#Pusat2026";

/// A one- or two-page letter PDF with real text, made with `lopdf`.
pub fn letter_pdf(title: &str, lines: &[String]) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 14.into()]),
        Operation::new("Td", vec![72.into(), 770.into()]),
        Operation::new("Tj", vec![Object::string_literal("KEMENTERIAN KEUANGAN REPUBLIK INDONESIA")]),
        Operation::new("Td", vec![0.into(), (-24).into()]),
        Operation::new("Tj", vec![Object::string_literal(title)]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
    ];
    for line in lines {
        operations.push(Operation::new("Td", vec![0.into(), (-18).into()]));
        operations.push(Operation::new("Tj", vec![Object::string_literal(line.as_str())]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().expect("content encodes")));
    let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "Resources" => resources_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("PDF writes to memory");
    out
}

/// The assignment letter (surat tugas) for one person.
pub fn assignment_letter(nik: &str, name: &str, letter_number: &str, satker: &str) -> Vec<u8> {
    letter_pdf(
        "SURAT TUGAS",
        &[
            format!("Nomor: {letter_number}"),
            String::new(),
            format!("Kepala {satker} menugaskan:"),
            format!("Nama : {name}"),
            format!("NIK  : {nik}"),
            "sebagai pengguna MyIntress tipe Satker.".into(),
            String::new(),
            "Formulir pendaftaran terlampir.".into(),
        ],
    )
}

pub struct Person {
    pub nik: String,
    pub name: &'static str,
    pub sex: Sex,
}

/// Residents with NIKs in Jakarta Pusat (31 71 01) and Bandung (32 73 01).
pub fn residents() -> Vec<Person> {
    let people: &[(&str, Sex, (i32, u32, u32))] = &[
        ("Budi Santoso", Sex::Male, (1988, 3, 12)),
        ("Rina Kartika", Sex::Female, (1985, 1, 5)),
        ("Siti Rahmawati", Sex::Female, (1990, 1, 12)),
        ("Ahmad Fauzi", Sex::Male, (1992, 7, 3)),
        ("Dewi Lestari", Sex::Female, (1994, 11, 21)),
        ("Hendra Gunawan", Sex::Male, (1983, 5, 30)),
        ("Sri Wahyuni", Sex::Female, (1979, 8, 17)),
        ("Ali Akbar", Sex::Male, (1991, 2, 2)),
        ("Yusuf Maulana", Sex::Male, (1996, 9, 9)),
        ("Ratna Sari", Sex::Female, (1989, 12, 1)),
        ("Andi Pratama", Sex::Male, (1993, 4, 14)),
        ("Fitri Handayani", Sex::Female, (1997, 6, 25)),
        ("Eko Prasetyo", Sex::Male, (1986, 10, 10)),
        ("I Made Sudarsana", Sex::Male, (1984, 3, 3)),
        ("Ni Luh Putu Ayu", Sex::Female, (1995, 5, 5)),
        ("Dina Marlina", Sex::Female, (1987, 8, 17)),
    ];
    people
        .iter()
        .enumerate()
        .map(|(i, (name, sex, (y, m, d)))| {
            let region = if i == 1 || i % 2 == 0 { "317101" } else { "327301" };
            let born = NaiveDate::from_ymd_opt(*y, *m, *d).expect("valid date");
            Person { nik: format!("{region}{}{:04}", encode_birth_date(born, *sex), i + 1), name, sex: *sex }
        })
        .collect()
}

/// Writes `kppn.csv`, `satker.csv`, `libur.csv` and `residents.csv` under `dir`.
pub fn write_files(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let reference = dir.join("reference");
    std::fs::create_dir_all(&reference)?;
    std::fs::write(reference.join("kppn.csv"), "kode,nama\n019,KPPN Jakarta II\n020,KPPN Jakarta III\n045,KPPN Bandung I\n")?;
    std::fs::write(
        reference.join("satker.csv"),
        "kode,nama,kode_kppn\n\
         019001,Sekretariat Jenderal Kementerian Contoh,019\n\
         019002,Direktorat Jenderal Pelayanan Contoh,019\n\
         019003,Badan Pendidikan dan Pelatihan Contoh,019\n\
         020001,Kantor Wilayah Contoh Jakarta,020\n\
         045001,Balai Besar Contoh Bandung,045\n",
    )?;
    // National holidays (fixed dates) of the demo's years; a real deployment lists every
    // holiday and joint leave day the government decrees.
    std::fs::write(
        reference.join("libur.csv"),
        "tanggal,keterangan\n2026-01-01,Tahun Baru Masehi\n2026-05-01,Hari Buruh Internasional\n\
         2026-06-01,Hari Lahir Pancasila\n2026-08-17,Hari Kemerdekaan RI\n2026-12-25,Hari Raya Natal\n\
         2027-01-01,Tahun Baru Masehi\n",
    )?;
    let residents = dir.join("residents.csv");
    let mut w = csv::Writer::from_path(&residents)?;
    w.write_record(["nik", "nama_lengkap", "tanggal_lahir", "jenis_kelamin"])?;
    for p in residents_list() {
        let nik = myintress_core::Nik::parse(&p.nik).expect("demo NIKs are valid");
        let born = nik.birth_date(Utc::now().date_naive());
        let sex = if p.sex == Sex::Female { "P" } else { "L" };
        w.write_record([p.nik.as_str(), &p.name.to_uppercase(), &born.to_string(), sex])?;
    }
    w.flush()?;
    Ok((reference, residents))
}

fn residents_list() -> Vec<Person> {
    // The first two residents are the operator and the verifier of KPPN 019; the verifier
    // of KPPN 020 is added here.
    let mut all = residents();
    debug_assert_eq!(all[0].nik, OPERATOR_NIK);
    debug_assert_eq!(all[1].nik, VERIFIER_NIK);
    all.push(Person { nik: OTHER_VERIFIER_NIK.into(), name: "Lestari Wulandari", sex: Sex::Female });
    all
}

/// Creates a KPPN verifier account that signs in with `password` (the server host's
/// `create-verifier`, the demo, the tests).
pub async fn create_verifier(state: &AppState, nik: &str, name: &str, email: &str, kppn_code: &str, password: &str) -> Result<()> {
    let form = NewVerifier { nik: nik.into(), name: name.into(), email: email.into(), kppn_code: kppn_code.into(), supervisor: false };
    crate::admin::create_account(state, By::Host, Role::Kppn, &form, Some(password)).await.map_err(explain)?;
    Ok(())
}

/// Creates a central operator's account that signs in with `password` (`create-admin`).
pub async fn create_admin(state: &AppState, nik: &str, name: &str, email: &str, password: &str) -> Result<()> {
    let form = NewVerifier { nik: nik.into(), name: name.into(), email: email.into(), kppn_code: "000".into(), supervisor: false };
    crate::admin::create_account(state, By::Host, Role::Admin, &form, Some(password)).await.map_err(explain)?;
    Ok(())
}

/// A refusal as a sentence for the server host's terminal.
pub fn explain(e: crate::error::ApiError) -> anyhow::Error {
    let problem = e.problem();
    if problem.errors.is_empty() {
        return anyhow::anyhow!("{}", problem.detail);
    }
    let fields: Vec<String> = problem.errors.iter().map(|f| format!("{}: {}", f.field, f.detail)).collect();
    anyhow::anyhow!("{}", fields.join("; "))
}

fn caller_for(account: AccountRow, scope: Scope, filter: ScopeFilter) -> Caller {
    let role = match scope {
        Scope::Kppn { .. } => myintress_core::api::Role::Kppn,
        Scope::Satker { .. } => myintress_core::api::Role::Satker,
    };
    Caller { account, role, filter, scope, family_id: String::new() }
}

async fn register(
    state: &AppState,
    caller: &Caller,
    person: &Person,
    satker: &str,
    number: &str,
) -> Result<myintress_core::api::Membership> {
    let input = RegistrationInput {
        nik: person.nik.clone(),
        name: person.name.into(),
        nip: String::new(),
        phone: "081234567890".into(),
        email: format!("{}@contoh.go.id", person.name.to_lowercase().replace(' ', ".")),
        satker_code: satker.into(),
        letter_number: number.into(),
        ticket_number: String::new(),
    };
    let form = input.validate(caller.scope.route()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut conn = state.store.read().await?;
    let satker_row = conn.satker(satker).await?.context("satker demo")?;
    drop(conn);
    let bytes = match signed::letter_for(number) {
        Some(signed) => signed.to_vec(),
        None => assignment_letter(&person.nik, person.name, number, &satker_row.name),
    };
    let report = state.pdf.check(&bytes).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let letter = CheckedPdf::new(bytes, report);
    let ctx = RequestCtx { request_id: "demo".into(), idempotency: None };
    match registry::register(state, caller, &form, &letter, &ctx).await {
        Ok(registry::Written::Created(r) | registry::Written::Updated(r)) => Ok(r.membership),
        Ok(registry::Written::Replayed(_)) => anyhow::bail!("unexpected replay"),
        Err(e) => anyhow::bail!("{}", e.problem().detail),
    }
}

/// The demo's electronically signed letters: the assignment letters of two pending
/// requests, signed under a demo CA, the second changed after signing. Made with real
/// tools (openssl, pyHanko) by `cargo xtask demo-letters`, which rewrites these files.
pub mod signed {
    /// The demo CA's certificate, the demo server's trust list.
    pub const CA_PEM: &str = include_str!("../demo/tte-demo.pem");
    /// The satker of the signed requests (its name is in the letters).
    pub const SATKER: &str = "019001";
    pub const SATKER_NAME: &str = "Sekretariat Jenderal Kementerian Contoh";
    /// (index into [`super::residents`], letter number) of the signed, intact letter…
    pub const INTACT: (usize, &str) = (4, "ST-012/SJ/2026");
    /// …and of the one changed after signing.
    pub const TAMPERED: (usize, &str) = (5, "ST-013/SJ/2026");
    pub const INTACT_PDF: &[u8] = include_bytes!("../demo/surat-tugas-ttd.pdf");
    pub const TAMPERED_PDF: &[u8] = include_bytes!("../demo/surat-tugas-ttd-diubah.pdf");

    /// The letter a demo request carries, if it is one of the signed ones.
    pub fn letter_for(number: &str) -> Option<&'static [u8]> {
        if number == INTACT.1 {
            Some(INTACT_PDF)
        } else if number == TAMPERED.1 {
            Some(TAMPERED_PDF)
        } else {
            None
        }
    }
}

/// Writes the demo's trust list (the demo CA) under `dir` and returns the folder, the demo
/// server's `--trust-dir`.
pub fn write_trust(dir: &Path) -> Result<PathBuf> {
    let trust = dir.join("tte");
    std::fs::create_dir_all(&trust)?;
    std::fs::write(trust.join("tte-demo.pem"), signed::CA_PEM)?;
    Ok(trust)
}

/// Refuses a database that holds verifiers other than the demo's: demo data goes only
/// into an empty database or one the demo made.
pub async fn refuse_real_data(store: &dyn crate::store::Store) -> Result<()> {
    let demo = [VERIFIER_NIK, OTHER_VERIFIER_NIK];
    let verifiers = store.read().await?.verifiers().await?;
    if let Some(real) = verifiers.iter().find(|v| !demo.contains(&v.nik.as_str())) {
        anyhow::bail!(
            "Basis data ini sudah berisi data nyata (misalnya akun verifikator {}); data demo hanya dimuat ke basis data kosong. \
             Jalankan demo dengan --data-dir dan --database-url yang lain.",
            myintress_core::nik::mask_nik(&real.nik)
        );
    }
    Ok(())
}

/// Loads the demo data unless it is already there. Returns false when it was.
pub async fn load(state: &AppState) -> Result<bool> {
    let mut conn = state.store.read().await?;
    let (loaded, has_admin) = (conn.account(VERIFIER_NIK).await?.is_some(), conn.account(ADMIN_NIK).await?.is_some());
    drop(conn);
    // Demo data written by an earlier version has no administrator: added, as printed.
    if !has_admin {
        create_admin(state, ADMIN_NIK, "Hendra Gunawan", "hendra.gunawan@kemenkeu.go.id", ADMIN_PASSWORD).await?;
    }
    if loaded {
        return Ok(false);
    }
    create_verifier(state, VERIFIER_NIK, "Rina Kartika", "rina.kartika@kemenkeu.go.id", "019", VERIFIER_PASSWORD).await?;
    create_verifier(state, OTHER_VERIFIER_NIK, "Lestari Wulandari", "lestari.w@kemenkeu.go.id", "020", VERIFIER_PASSWORD).await?;

    let verifier_account = state.store.read().await?.account(VERIFIER_NIK).await?.context("verifier")?;
    let kppn = myintress_core::text::KppnCode::parse("019").expect("code");
    let verifier = caller_for(verifier_account, Scope::Kppn { kppn_code: kppn }, ScopeFilter::Kppn("019".into()));
    assert_eq!(verifier.scope.route(), Route::Kppn);

    // The satker operator, registered by the KPPN (route A), with a password already set.
    let operator_person = Person { nik: OPERATOR_NIK.into(), name: "Budi Santoso", sex: Sex::Male };
    register(state, &verifier, &operator_person, "019001", "ST-001/SJ/2026").await?;
    let mut tx = state.store.write().await?;
    tx.set_password(OPERATOR_NIK, &hash_password(OPERATOR_PASSWORD)?).await?;
    tx.commit().await?;

    let operator_account = state.store.read().await?.account(OPERATOR_NIK).await?.context("operator")?;
    let satker = myintress_core::text::SatkerCode::parse("019001").expect("code");
    let operator = caller_for(operator_account, Scope::Satker { active_satkers: vec![satker] }, ScopeFilter::ActiveIn(OPERATOR_NIK.into()));

    let people = residents();
    // Pending requests by the satker itself (route B), waiting for the KPPN: two of them
    // for long enough that the Antrean shows one overdue and one escalated, two with an
    // electronically signed letter, one of which was changed after signing.
    let now = Utc::now();
    for (i, p) in people.iter().skip(2).take(4).enumerate() {
        let m = register(state, &operator, p, "019001", &format!("ST-{:03}/SJ/2026", i + 10)).await?;
        let waited = match i {
            0 => Some(chrono::Duration::days(9)),
            1 => Some(chrono::Duration::days(4)),
            _ => None,
        };
        if let Some(waited) = waited {
            let mut tx = state.store.write().await?;
            tx.backdate_membership(m.id, now - waited).await?;
            tx.commit().await?;
        }
    }
    // A user who left the satker, deactivated, whose deletion the satker asked for with
    // its request letter: a deletion request in the Antrean.
    let leaver = people.get(9).context("demo residents")?;
    let m = register(state, &verifier, leaver, "019001", "ST-020/SJ/2026").await?;
    let ctx = RequestCtx { request_id: "demo".into(), idempotency: None };
    let reason = Some(myintress_core::registration::parse_reason("Pindah tugas ke satker lain").map_err(|e| anyhow::anyhow!("{e}"))?);
    let deactivate = registry::ActionInput { action: Action::Deactivate, if_match: Some(m.version), reason, deletion: None, batch: None };
    registry::act(state, &verifier, m.id, deactivate, &ctx).await.map_err(explain)?;
    let request_letter = letter_pdf(
        "NOTA DINAS",
        &[
            "Nomor: ND-031/SJ/2026".into(),
            "Hal: Permohonan penghapusan pengguna MyIntress".into(),
            format!("Nama : {}", leaver.name),
            format!("NIK  : {}", leaver.nik),
            "Alasan: pindah tugas ke satker lain.".into(),
        ],
    );
    let report = state.pdf.check(&request_letter).await?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let form = myintress_core::registration::DeletionRequestInput {
        reason: "Pegawai pindah tugas ke satker lain".into(),
        letter_number: "ND-031/SJ/2026".into(),
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    crate::deletions::request(state, &operator, m.id, &form, &CheckedPdf::new(request_letter, report), &ctx).await.map_err(explain)?;
    crate::queue::refresh_flags(state, now).await?;
    // Active users registered by the KPPN in another satker.
    for (i, p) in people.iter().skip(6).take(3).enumerate() {
        register(state, &verifier, p, "019002", &format!("ND-{:03}/DJP/2026", i + 1)).await?;
    }
    Ok(true)
}

/// What `demo` prints after loading.
pub fn instructions(public_url: &str) -> String {
    format!(
        "\n  MyIntress — data demo siap.\n\
         \n  Server pusat       : {public_url}\n\
         \n  Verifikator KPPN 019 (KPPN Jakarta II)\n    NIK        : {VERIFIER_NIK}\n    Kata sandi : {VERIFIER_PASSWORD}\n\
         \n  Operator satker 019001\n    NIK        : {OPERATOR_NIK}\n    Kata sandi : {OPERATOR_PASSWORD}\n\
         \n  Pengelola pusat (Administrasi)\n    NIK        : {ADMIN_NIK}\n    Kata sandi : {ADMIN_PASSWORD}\n\
         \n  Captcha dimatikan untuk demo: isian captcha boleh apa saja.\n"
    )
}
