//! A private RabbitMQ node the fault tests may kill: the machine's shared
//! broker (127.0.0.1:5672) serves every other test, so it is never
//! stopped. Same Debian `rabbitmq-server`, own node name, ports, data
//! directory and Erlang cookie; killed with SIGKILL (no clean shutdown)
//! and started again on the same data directory, like a crashed broker
//! coming back.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// Where Debian installs the node's start script (the `/usr/sbin` wrapper
/// insists on running as the `rabbitmq` user with the system node's
/// settings). `PURATAN_RABBITMQ_SERVER` overrides it.
const SERVER_SCRIPT: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

pub struct PrivateBroker {
    dir: PathBuf,
    amqp_port: u16,
    dist_port: u16,
    child: Option<Child>,
}

impl PrivateBroker {
    /// Boots a node in `dir` and waits for its AMQP listener. `Err` when
    /// RabbitMQ is not installed or did not come up within a minute.
    pub async fn start(dir: &Path) -> Result<Self, String> {
        let mut broker = Self {
            dir: dir.to_owned(),
            amqp_port: free_port(),
            dist_port: free_port(),
            child: None,
        };
        std::fs::write(dir.join("enabled_plugins"), "[].\n").map_err(|e| e.to_string())?;
        broker.boot().await?;
        Ok(broker)
    }

    /// [`start`](Self::start), or `None` (skip) without RabbitMQ; with
    /// `CI=true` a failure to start is a test failure.
    pub async fn start_or_skip(dir: &Path) -> Option<Self> {
        puratan_testkit::service::require("a private RabbitMQ node", Self::start(dir).await)
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }

    /// SIGKILL: no connection is closed cleanly, nothing is flushed on
    /// the way out.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // In case a wrapper did not `exec` the VM: the node's own pid file.
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("pid")) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
            let _ = std::fs::remove_file(self.dir.join("pid"));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.accepts() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts the node again on the same data directory.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.boot().await
    }

    async fn boot(&mut self) -> Result<(), String> {
        let script = std::env::var("PURATAN_RABBITMQ_SERVER").unwrap_or(SERVER_SCRIPT.to_owned());
        if !Path::new(&script).exists() {
            return Err(format!(
                "{script} is missing (Debian package rabbitmq-server)"
            ));
        }
        let d = &self.dir;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("node.log"))
            .map_err(|e| e.to_string())?;
        // `exec erl …` all the way down: the child is the Erlang VM itself,
        // so killing it kills the broker.
        let child = Command::new(&script)
            .env("HOME", d)
            .env(
                "RABBITMQ_NODENAME",
                format!("puratan-fault-{}@localhost", self.amqp_port),
            )
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.amqp_port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
            .env("RABBITMQ_ADVANCED_CONFIG_FILE", d.join("advanced.config"))
            .env("RABBITMQ_PID_FILE", d.join("pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{script}: {e}"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.accepts() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let log = std::fs::read_to_string(d.join("node.log")).unwrap_or_default();
                return Err(format!("rabbitmq-server exited with {status}:\n{log}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the private RabbitMQ node did not accept AMQP within 60 s".to_owned())
    }

    fn accepts(&self) -> bool {
        std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], self.amqp_port)),
            Duration::from_millis(200),
        )
        .is_ok()
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.kill();
    }
}
