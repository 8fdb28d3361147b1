//! An HTTPS front for a test server: TLS with the certificate of the test run's private
//! CA (`cargo xtask test` makes it and puts the CA in `SSL_CERT_FILE`), forwarding the
//! plain bytes to the server. A desktop that trusts the machine's CA store reaches it; one
//! that trusts only a bundled list would not.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};

pub struct TlsFront {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TlsFront {
    /// Starts the front for `upstream`; `None` when the test command made no CA
    /// (`MYINTRESS_TEST_TLS_CERT`, `MYINTRESS_TEST_TLS_KEY`), unless it requires its tools.
    pub async fn start(upstream: SocketAddr) -> Option<TlsFront> {
        let (cert, key) = match (std::env::var("MYINTRESS_TEST_TLS_CERT"), std::env::var("MYINTRESS_TEST_TLS_KEY")) {
            (Ok(cert), Ok(key)) => (cert, key),
            _ if crate::tools_required() => panic!("MYINTRESS_TEST_TLS_CERT/KEY are not set although the test command requires them"),
            _ => return None,
        };
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(&cert).expect("certificate file").map(|c| c.expect("certificate")).collect();
        let key = PrivateKeyDer::from_pem_file(&key).expect("key file");
        let config =
            tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("certificate and key match");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else { return };
                    let Ok(mut plain) = TcpStream::connect(upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        Some(TlsFront { addr, task })
    }

    /// `https://127.0.0.1:<port>` (the certificate names 127.0.0.1 and localhost).
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
