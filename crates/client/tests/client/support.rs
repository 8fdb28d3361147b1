//! A desk: one desktop client with its own data dir and keychain service, talking to a
//! real server (through a fault proxy when the test wants the network to misbehave).

use std::path::PathBuf;
use std::sync::Arc;

use myintress_client::{Client, ClientConfig};
use myintress_testkit::TestServer;

use myintress_testkit::proxy::FaultProxy;

pub struct Desk {
    pub client: Arc<Client>,
    pub dir: PathBuf,
    pub service: String,
    /// Who signed in here, so the keychain entry can be removed on drop.
    signed_in: std::sync::Mutex<Option<String>>,
}

impl Desk {
    /// A fresh desk pointed at `server_url`.
    pub async fn open(server_url: &str) -> Desk {
        let dir = std::env::temp_dir().join(format!("myintress-desk-{}", uuid::Uuid::new_v4()));
        let service = format!("myintress-test-{}", uuid::Uuid::new_v4());
        Self::open_at(dir, service, server_url).await
    }

    /// A desk over an existing data dir (a restarted app).
    pub async fn open_at(dir: PathBuf, service: String, server_url: &str) -> Desk {
        let config = ClientConfig {
            data_dir: dir.clone(),
            server_url: server_url.to_owned(),
            keychain_service: service.clone(),
            cache_limit_bytes: 50 * 1024 * 1024,
        };
        let client = Arc::new(Client::open(config).await.expect("client opens"));
        Desk { client, dir, service, signed_in: std::sync::Mutex::new(None) }
    }

    pub async fn sign_in(&self, nik: &str, password: &str) {
        let challenge = self.client.api().captcha().await.expect("captcha");
        self.client.sign_in(nik, password, &challenge.captcha_id, "apa saja").await.expect("sign-in");
        *self.signed_in.lock().unwrap() = Some(nik.to_owned());
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        if let Some(nik) = self.signed_in.lock().unwrap().take() {
            let _ = myintress_client::keychain::Keychain::new(&self.service).remove(&self.client.config().server_url, &nik);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server with a KPPN verifier of 019 and a satker operator active in 019001.
pub struct World {
    pub server: TestServer,
    pub proxy: FaultProxy,
    pub kppn_nik: String,
    pub operator_nik: String,
}

pub const KPPN_PASSWORD: &str = "Verifikator#Uji2026";
pub const OPERATOR_PASSWORD: &str = "Operator#Satker2026";

impl World {
    pub async fn new() -> World {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut myintress_server::settings::Settings)) -> World {
        Self::around(TestServer::start_with(&myintress_testkit::Backend::Sqlite, adjust).await).await
    }

    /// The same world on two server replicas (PostgreSQL, S3 store, a round-robin
    /// balancer); `None` without PostgreSQL and the S3 server (the test command has both).
    pub async fn replicas() -> Option<World> {
        Some(Self::around(TestServer::start_replicas(2, |_| {}).await?).await)
    }

    pub async fn around(server: TestServer) -> World {
        let kppn = server.verifier("019").await;
        let operator = server.operator(&kppn, "019001", 1).await;
        let upstream = server.base.trim_start_matches("http://").parse().unwrap();
        let proxy = FaultProxy::start(upstream).await;
        World { kppn_nik: kppn.nik.clone(), operator_nik: operator.nik.clone(), server, proxy }
    }

    /// A desk signed in as the KPPN verifier, through the proxy.
    pub async fn kppn_desk(&self) -> Desk {
        let desk = Desk::open(&self.proxy.url()).await;
        desk.sign_in(&self.kppn_nik, KPPN_PASSWORD).await;
        desk.client.sync_once().await.expect("first sync");
        desk
    }

    /// Another verifier of the same KPPN on its own desk.
    pub async fn second_kppn_desk(&self) -> Desk {
        let other = self.server.verifier("019").await;
        let desk = Desk::open(&self.proxy.url()).await;
        desk.sign_in(&other.nik, KPPN_PASSWORD).await;
        desk.client.sync_once().await.expect("first sync");
        desk
    }

    pub async fn operator_desk(&self) -> Desk {
        let desk = Desk::open(&self.proxy.url()).await;
        desk.sign_in(&self.operator_nik, OPERATOR_PASSWORD).await;
        desk.client.sync_once().await.expect("first sync");
        desk
    }
}

/// Declares each scenario (an `async fn(World)`) twice: against one server on SQLite, and
/// through two replicas on PostgreSQL behind a balancer.
#[macro_export]
macro_rules! on_both_worlds {
    ($($name:ident),* $(,)?) => {
        mod one_server {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::World::new().await).await
                }
            )*
        }
        mod two_replicas {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(world) = $crate::support::World::replicas().await {
                        super::$name(world).await
                    }
                }
            )*
        }
    };
}
