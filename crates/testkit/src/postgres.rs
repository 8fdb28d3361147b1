//! A throwaway PostgreSQL cluster: `initdb` in a fresh folder, started on a free port on
//! 127.0.0.1 with trust authentication, stopped and removed on drop. Run as the
//! `postgres` user when we are root (PostgreSQL refuses to run as root).
//!
//! The test command starts one for the whole run; a test that must stop and start
//! PostgreSQL under load starts its own. This file is also compiled into `xtask` (by
//! path, so xtask stays free of the test kit's dependencies): it uses only std and anyhow.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub url: String,
    as_postgres: bool,
    /// `postgres` options (port, socket folder, fsync) for every start.
    options: String,
}

fn pg_bin() -> Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL tidak terpasang (/usr/lib/postgresql)")?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().context("initdb tidak ditemukan")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output().with_context(|| format!("menjalankan {program}"))?;
        if !output.status.success() {
            bail!("{program} gagal: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(())
    }

    /// A cluster for tests: `fsync` off, since it need not survive a power cut.
    pub fn start(parent: &Path) -> Result<Cluster> {
        Self::start_with(parent, false)
    }

    /// `durable`: `fsync` on, as a production server runs (the benchmarks).
    pub fn start_with(parent: &Path, durable: bool) -> Result<Cluster> {
        let bin = pg_bin()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = parent.join(format!("postgres-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown").args(["-R", "postgres"]).arg(&dir).status()?;
            if !status.success() {
                bail!("chown {} gagal", dir.display());
            }
        }
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync={} -c max_connections=300",
            dir.display(),
            if durable { "on" } else { "off" }
        );
        let cluster = Cluster { bin, url: format!("postgres://postgres@127.0.0.1:{port}/postgres"), dir, as_postgres, options };
        let data = cluster.data()?;
        cluster.run("initdb", &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])?;
        cluster.start_again()?;
        Ok(cluster)
    }

    fn data(&self) -> Result<String> {
        Ok(self.dir.join("data").to_str().context("path")?.to_owned())
    }

    /// Stops the server the way an operator's restart does (`-m fast`: sessions are ended
    /// with an error, open transactions rolled back).
    pub fn stop(&self) -> Result<()> {
        self.run("pg_ctl", &["-D", &self.data()?, "-m", "fast", "-w", "stop"])
    }

    /// Starts the (stopped) server again on the same port and data.
    pub fn start_again(&self) -> Result<()> {
        let log = self.dir.join("postgres.log");
        self.run("pg_ctl", &["-D", &self.data()?, "-o", &self.options, "-l", log.to_str().context("path")?, "-w", "start"])
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
