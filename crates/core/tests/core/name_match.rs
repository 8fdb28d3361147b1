use myintress_core::error::ErrorCode;
use myintress_core::name_match::{NameScore, NameThreshold, check_name, normalize, score, without_titles};

#[test]
fn name_threshold_defaults_to_80_percent() {
    assert_eq!(NameThreshold::default().get(), 80);
    assert_eq!(NameThreshold::new(101), None);
}

#[test]
fn name_mismatch_text_shows_score_and_threshold() {
    let refused = NameScore { score: 54, threshold: 95 };
    assert!(!refused.passes());
    assert_eq!(refused.mismatch_detail(), "Berdasarkan pengecekan di DUKCAPIL: Nama lengkap tidak valid 54/95");
    assert_eq!(ErrorCode::NameMismatch.as_str(), "name_mismatch");
    assert_eq!(ErrorCode::NikNotFound.detail(), "Berdasarkan pengecekan di DUKCAPIL: NIK tidak ditemukan");
}

#[test]
fn name_at_threshold_passes_below_fails() {
    assert!(NameScore { score: 80, threshold: 80 }.passes());
    assert!(!NameScore { score: 79, threshold: 80 }.passes());
}

#[test]
fn name_normalisation_drops_case_spacing_punctuation_and_titles() {
    let cases = [
        ("  budi   SANTOSO ", "budi santoso"),
        ("Drs. H. Ahmad Fauzi, M.M.", "ahmad fauzi"),
        ("Dr. Ir. Siti Rahmawati, S.E., M.Si.", "siti rahmawati"),
        ("Hj. Nur'aini", "nuraini"),
        ("Prof. Dr. Bambang Brodjonegoro, S.E., M.U.P., Ph.D.", "bambang brojonegoro"),
        ("Budi Santoso,S.E.,M.Ak", "budi santoso"),
        ("Siti-Nurhaliza", "siti nurhaliza"),
        ("Andi Wijaya SE MM", "andi wijaya"),
        ("René Café", "rene cafe"),
    ];
    for (typed, expected) in cases {
        assert_eq!(normalize(typed), expected, "{typed}");
    }
}

#[test]
fn name_old_spellings_equal_new_ones() {
    assert_eq!(normalize("Soekarno"), normalize("Sukarno"));
    assert_eq!(normalize("Djoko Widodo"), normalize("Joko Widodo"));
    assert_eq!(normalize("Tjipto Mangoenkoesoemo"), normalize("Cipto Mangunkusumo"));
    assert_eq!(normalize("Sjahrir"), normalize("Syahrir"));
    assert_eq!(normalize("Chairul Tanjung"), normalize("Khairul Tanjung"));
    assert_eq!(score("Soeharto", "SUHARTO"), 100);
}

#[test]
fn name_a_title_alone_is_kept_as_the_name() {
    // Someone registered only as "Ir" (a real single name) does not normalise to nothing.
    assert_eq!(normalize("Ir"), "ir");
}

/// Realistic pairs: what a satker types, what Dukcapil holds, and whether it should pass
/// at the default threshold of 80.
#[test]
fn name_table_of_realistic_indonesian_names() {
    let t = NameThreshold::default();
    let table: &[(&str, &str, bool)] = &[
        // Same name, different writing.
        ("Budi Santoso", "BUDI SANTOSO", true),
        ("Drs. H. Ahmad Fauzi, M.M.", "AHMAD FAUZI", true),
        ("Sri Mulyani Indrawati", "SRI MULYANI INDRAWATI", true),
        ("Muhammad Rizki", "MUHAMAD RIZKI", true),
        ("Mohammad Hatta", "MUHAMMAD HATTA", true),
        ("Siti Nurhaliza", "SITI NUR HALIZA", true),
        ("Nur Aini", "NUR'AINI", true),
        ("Dewi Lestari", "DEWI LESTARY", true),
        ("I Gusti Ngurah Rai", "I GUSTI NGURAH RAI", true),
        ("Putu Ayu Wulandari", "NI PUTU AYU WULANDARI", true),
        ("Sinaga Rudolf", "RUDOLF SINAGA", true),
        // Single names.
        ("Sukarno", "SOEKARNO", true),
        ("Suharto", "SOEHARTO", true),
        ("Sutrisno", "SUTRISNO", true),
        ("Sutrisno", "SUTRISNA", true),
        ("Suparman", "SUPARMI", false),
        ("Wati", "WATI", true),
        ("Wati", "YATI", false),
        // Different people, or half a name.
        ("Budi Santoso", "BUDI SANTOSA", true),
        ("Budi", "BUDI SANTOSO", false),
        ("Budi Santoso", "AHMAD SANTOSO", false),
        ("Agus Salim", "AGUS SALIM HARAHAP", false),
        ("Rina Marlina", "RINA MARLINA", true),
        // Two typos in thirteen letters are still 84%: the 80% rule forgives them.
        ("Rina Marlina", "RINI MARLIANA", true),
        ("Rina Marlina", "RINA SUHARTINI", false),
        ("Andi", "ANDI", true),
        ("", "ANDI", false),
    ];
    let mut failures = Vec::new();
    for (typed, registered, should_pass) in table {
        let s = check_name(typed, registered, t);
        if s.passes() != *should_pass {
            failures.push(format!("{typed:?} vs {registered:?}: score {} (expected pass={should_pass})", s.score));
        }
    }
    assert!(failures.is_empty(), "name decisions differ:\n{}", failures.join("\n"));
}

#[test]
fn name_score_is_symmetric_and_bounded() {
    for (a, b) in [("Budi Santoso", "Ahmad"), ("Andi", "Andini"), ("X", "Y")] {
        assert_eq!(score(a, b), score(b, a), "{a} / {b}");
        assert!(score(a, b) <= 100);
    }
    assert_eq!(score("Andi", "Andi"), 100);
    assert_eq!(score("", ""), 0, "nothing typed matches nothing");
}

#[test]
fn a_letter_is_searched_for_the_name_without_its_titles() {
    // What the desktop looks for in a letter's text: the person's own words, in their own
    // letters, without academic and religious titles (the same lists the score drops).
    for (registered, searched) in [
        ("Drs. H. Budi Santoso, M.M.", "Budi Santoso"),
        ("Dr. Budi Santoso, S.E.", "Budi Santoso"),
        ("Hj. Siti Nurhaliza S.Pd.", "Siti Nurhaliza"),
        ("Ir. Soekarno", "Soekarno"),
        ("  Budi   Santoso ", "Budi Santoso"),
        ("Ir", "Ir"),
    ] {
        assert_eq!(without_titles(registered), searched, "{registered}");
        assert_eq!(normalize(&without_titles(registered)), normalize(registered), "the score sees the same name");
    }
}

#[test]
fn the_vocabulary_collects_every_label_from_its_value() {
    use myintress_core::status::{Action, Event, Status};
    let words = myintress_core::vocabulary::vocabulary();
    assert_eq!(words.statuses.iter().map(|s| s.code).collect::<Vec<_>>(), vec![1, 2, 3, 0, 5], "the guide's order");
    for status in Status::ALL {
        let word = words.statuses.iter().find(|w| w.code == status.code()).expect("every status");
        assert_eq!((word.label, word.display.as_str()), (status.label(), status.display_label().as_str()));
    }
    for action in Action::ALL.into_iter().filter(|a| *a != Action::MarkDormant) {
        assert_eq!(words.actions[action.as_str()], action.label());
    }
    assert_eq!(words.actions["register"], "Tambah Pengguna");
    for event in Event::ALL {
        assert_eq!(words.events[event.as_str()], event.label());
        assert_eq!(Event::parse(event.as_str()), event);
    }
    assert_eq!(Event::parse("contact_changed"), Event::Other("contact_changed".into()), "a newer server's step is kept by name");
}

#[test]
fn a_name_mismatch_is_explained_without_the_registrys_spelling() {
    use myintress_core::name_match::{NameWord, explain};
    let why = explain("Drs. H. Budi Santosa, M.M.", "BUDI SANTOSO");
    assert_eq!(why.compared, "budi santosa");
    assert_eq!(why.titles, ["Drs.", "H.", "M.M."]);
    assert_eq!(why.punctuation, [".", ","]);
    assert_eq!(why.words, [NameWord { word: "budi".into(), found: true }, NameWord { word: "santosa".into(), found: false }]);
    // Nothing of the registry's own spelling appears.
    let text = serde_json::to_string(&why).unwrap() + &why.sentence();
    assert!(!text.contains("santoso"), "{text}");
    assert_eq!(
        why.sentence(),
        "Nama yang dibandingkan “budi santosa”. Dikesampingkan: gelar Drs., gelar H., gelar M.M., tanda baca “. ,”. \
         Kata yang tidak ada pada data DUKCAPIL: santosa. Kata yang ada pada data DUKCAPIL: budi."
    );
    // Old spellings and accents are compared as today's: "Soekarno" is found in "SUKARNO".
    assert!(explain("Soekarno", "SUKARNO").words.iter().all(|w| w.found));
    assert!(explain("x", "y").without_words().words.is_empty());
}
