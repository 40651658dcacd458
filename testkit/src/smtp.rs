//! A real SMTP server for email tests: Debian's python3-aiosmtpd, run as a
//! child process that stores every message it accepts in a maildir.
//!
//! Where aiosmtpd is missing the email half of a test is skipped with a
//! message on stderr; with `CI=true` that is an error instead, so CI never
//! skips it silently (`.ci/run` installs the package).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's interpreter, which has the package (a pyenv `python3` may not).
const PYTHON: &str = "/usr/bin/python3";

/// A running aiosmtpd; killed when dropped.
pub struct SmtpServer {
    pub port: u16,
    child: Child,
    maildir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use crate::free_port;

fn available() -> bool {
    Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl SmtpServer {
    /// A server on a free port, or `None` (with a message) where aiosmtpd is missing.
    pub async fn start() -> Option<SmtpServer> {
        SmtpServer::start_on(free_port()).await
    }

    /// A server on `port` (a test may point Tabletalk there before it runs).
    pub async fn start_on(port: u16) -> Option<SmtpServer> {
        if !available() {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true"),
                "CI=true but python3-aiosmtpd is not installed: email tests must run in CI"
            );
            eprintln!(
                "skipping the SMTP part of this test: install python3-aiosmtpd (apt) to run it"
            );
            return None;
        }
        let maildir = tempfile::tempdir().expect("a maildir");
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let server = SmtpServer {
            port,
            child,
            maildir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not listen on {port} within 5 s");
    }

    /// `SMTP_URL` for this server (no TLS: a local relay).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.maildir.path().join("mail").join(d)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits until `count` messages arrived (up to 10 s) and returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}
