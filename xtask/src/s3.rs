//! A throwaway S3-compatible server for the test run: moto in server mode (PyPI, pinned in
//! `setup::MOTO`), on a free port on 127.0.0.1, with one bucket the tests share (each test
//! writes under a prefix of its own). Stopped on drop. The server's tests on PostgreSQL and
//! the two-replica tests keep their documents there, as a production deployment does.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::setup;

pub const BUCKET: &str = "myintress-test";

pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    pub fn start(tools: &Path) -> Result<S3Server> {
        setup::python_tool(setup::MOTO)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(tools.join("moto.log")).context("moto.log")?;
        let child = Command::new(setup::venv_bin("moto_server")?)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("menjalankan moto_server")?;
        let mut server = S3Server { child, endpoint: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!("moto_server berhenti ({status}); lihat {}", tools.join("moto.log").display());
            }
            if Instant::now() > deadline {
                bail!("moto_server tidak menjawab di port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // The bucket, made by the S3 client moto itself depends on.
        let create = format!(
            "import boto3; boto3.client('s3', endpoint_url='{}', aws_access_key_id='uji', aws_secret_access_key='uji', \
             region_name='us-east-1').create_bucket(Bucket='{BUCKET}')",
            server.endpoint
        );
        let status = Command::new(setup::venv_bin("python")?).args(["-c", &create]).status().context("membuat bucket")?;
        if !status.success() {
            bail!("membuat bucket {BUCKET} gagal ({status})");
        }
        Ok(server)
    }

    /// The environment of the tests: the standard `AWS_*` variables the server's object
    /// store reads, and the bucket.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "uji".into()),
            ("AWS_SECRET_ACCESS_KEY", "uji".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("MYINTRESS_TEST_S3_URL", format!("s3://{BUCKET}")),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
