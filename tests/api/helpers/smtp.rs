//! A real SMTP server for the tests: Debian's `python3-aiosmtpd` (installed by `.ci/run`),
//! keeping every message it accepts in a Maildir that the tests read.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's interpreter, where `apt-get install python3-aiosmtpd` puts the module.
const PYTHON: &str = "/usr/bin/python3";

pub struct SmtpServer {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl SmtpServer {
    /// A server on a free loopback port.
    pub async fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        SmtpServer::start_on(port).await
    }

    /// A server on `port`, accepting connections when this returns.
    pub async fn start_on(port: u16) -> SmtpServer {
        let dir =
            std::env::temp_dir().join(format!("civicline-smtp-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{PYTHON} -m aiosmtpd: {e} (apt-get install python3-aiosmtpd)")
            });
        let mut server = SmtpServer { port, dir, child };
        for _ in 0..250 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("aiosmtpd exited ({status}): is python3-aiosmtpd installed?");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("aiosmtpd did not listen on port {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received, whole (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.dir.join(sub)).ok())
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
