//! The server side of an end-to-end test: a real central server (from the server's test
//! kit) on 127.0.0.1 with a fault proxy in front, so a test can take the network away,
//! plus accounts to sign in with and letters to upload.

use std::path::PathBuf;

use myintress_testkit::proxy::{FaultProxy, Mode};
use myintress_testkit::{Backend, Client, Registration, TestServer, letter, resident};

pub const KPPN_PASSWORD: &str = "Verifikator#Uji2026";
pub const OPERATOR_PASSWORD: &str = "Operator#Satker2026";

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub server: TestServer,
    pub proxy: FaultProxy,
    pub files: PathBuf,
}

impl World {
    pub fn new(name: &str) -> World {
        World::with(name, |_| {})
    }

    /// A world whose server is started with `adjust`ed settings (a trust list…).
    pub fn with(name: &str, adjust: impl FnOnce(&mut myintress_server::settings::Settings)) -> World {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (server, proxy) = rt.block_on(async {
            let server = TestServer::start_with(&Backend::Sqlite, adjust).await;
            let upstream = server.base.trim_start_matches("http://").parse().unwrap();
            let proxy = FaultProxy::start(upstream).await;
            (server, proxy)
        });
        let files = std::env::temp_dir().join(format!("myintress-e2e-files-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&files).unwrap();
        World { rt, server, proxy, files }
    }

    /// The server as the app sees it (through the proxy).
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    pub fn offline(&self) {
        self.proxy.set_mode(Mode::Refuse);
    }

    pub fn online(&self) {
        self.proxy.set_mode(Mode::Pass);
    }

    /// A new KPPN verifier of `kppn`: its NIK and an HTTP client signed in as it.
    pub fn verifier(&self, kppn: &str) -> Client {
        self.rt.block_on(self.server.verifier(kppn))
    }

    /// Sets the password of a person registered with `email` through the e-mailed link.
    pub fn activate(&self, email: &str, password: &str) {
        let status = self.rt.block_on(self.server.activate(email, password));
        assert_eq!(status.as_u16(), 200, "activation of {email}");
    }

    /// A letter PDF naming resident `n`, saved as a file to pick in the dialog.
    pub fn letter_file(&self, n: u32, number: &str) -> PathBuf {
        let (nik, name) = resident(n);
        let path = self.files.join(format!("surat-{n}-{}.pdf", number.replace('/', "-")));
        std::fs::write(&path, letter(&nik, &name, number)).unwrap();
        path
    }

    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.files.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Registers through the API (another desk, the satker's own system…).
    pub fn register(&self, as_client: &Client, registration: &Registration) -> myintress_core::api::Membership {
        self.rt.block_on(as_client.registered(registration))
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.files);
    }
}
