//! A first sync into an empty store: a KPPN verifier's Antrean is written before the rest
//! of the feed, the list and search indexes are built once at the end, and a first sync
//! cut short leaves a store that searches (by reading the rows) and builds its indexes at
//! the next start.

use myintress_client::{ListFilter, testing};
use myintress_core::Status;

use crate::round_trips::input;
use crate::support::{Desk, KPPN_PASSWORD, World};

/// What a first sync builds at its end.
const BUILT: [&str; 6] = [
    "memberships_by_name",
    "memberships_by_satker",
    "memberships_by_status",
    "memberships_list",
    "memberships_person",
    "memberships_search_insert",
];

async fn found(desk: &Desk, text: &str) -> usize {
    desk.client.list(&ListFilter { search: Some(text.into()), limit: 50, ..Default::default() }).await.unwrap().total as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_antrean_comes_first_and_the_indexes_are_built_once_at_the_end() {
    let world = World::new().await;
    // Decided people first (a KPPN registration is active at once), pending requests last:
    // in the feed's order the Antrean would come at the very end.
    let verifier = world.kppn_desk().await;
    for n in 0..3 {
        let (form, pdf) = input(400 + n, "019001");
        verifier.client.register(form, pdf).await.unwrap();
    }
    verifier.client.sync_once().await.unwrap();
    let operator = world.operator_desk().await;
    let mut pending_names = Vec::new();
    for n in 3..5 {
        let (form, pdf) = input(400 + n, "019001");
        pending_names.push(form.name.clone());
        operator.client.register(form, pdf).await.unwrap();
    }
    operator.client.sync_once().await.unwrap();

    let desk = Desk::open(&world.proxy.url()).await;
    desk.sign_in(&world.kppn_nik, KPPN_PASSWORD).await;
    desk.client.sync_once().await.expect("first sync");
    let order = testing::insertion_order(&desk.client).await.unwrap();
    let pending = i64::from(Status::Registered.code());
    let head = order.iter().take_while(|(_, status)| *status == pending).count();
    assert_eq!(head, 2, "the two pending requests were written before everything else: {order:?}");
    assert!(order.len() > 5, "the decided rows came too: {order:?}");
    assert_eq!(desk.client.queue().await.unwrap().len(), 2);

    let indexes = testing::membership_indexes(&desk.client).await.unwrap();
    for name in BUILT {
        assert!(indexes.iter().any(|i| i == name), "{name} built after the first sync: {indexes:?}");
    }
    let name = &pending_names[0];
    assert_eq!(found(&desk, name).await, 1, "the search index holds the rows");

    // A first sync cut short: the indexes are not there, and a search reads the rows.
    testing::begin_bulk_load(&desk.client).await.unwrap();
    let indexes = testing::membership_indexes(&desk.client).await.unwrap();
    assert!(!indexes.iter().any(|i| i == "memberships_by_name" || i == "memberships_search_insert"), "{indexes:?}");
    assert_eq!(found(&desk, name).await, 1, "found without the search index");
    // The app starts again: it builds them before anything reads the store.
    let again = Desk::open_at(desk.dir.clone(), desk.service.clone(), &world.proxy.url()).await;
    let indexes = testing::membership_indexes(&again.client).await.unwrap();
    for name in BUILT {
        assert!(indexes.iter().any(|i| i == name), "{name} built at the next start: {indexes:?}");
    }
    assert_eq!(found(&again, name).await, 1, "the search index was filled again");
}
