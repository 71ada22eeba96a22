//! A real PostgreSQL for the tests that need one, started by the suite itself: Debian's
//! packages (installed with apt-get when missing and the suite runs as root, as CI does), a
//! cluster made by initdb in a temporary directory, run by an unprivileged user when the suite
//! runs as root (PostgreSQL refuses to run as root), on a free loopback port. One server for
//! the test binary; each test gets a database of its own. A watchdog stops the server and
//! removes its directory when the test binary exits. Without PostgreSQL the tests fail: they
//! never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Postgres {
    bin: PathBuf,
    port: u16,
    user: String,
}

static SERVER: OnceLock<Postgres> = OnceLock::new();
static DATABASES: AtomicU32 = AtomicU32::new(0);

/// The suite's PostgreSQL, started on first use.
pub fn postgres() -> &'static Postgres {
    SERVER.get_or_init(start)
}

impl Postgres {
    /// A new, empty database; its connection string.
    pub fn database(&self, name: &str) -> String {
        let n = DATABASES.fetch_add(1, Ordering::SeqCst);
        let database = format!("{name}_{n}_{}", std::process::id());
        self.psql("postgres", &format!("CREATE DATABASE {database}"));
        self.url(&database)
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.user, self.port
        )
    }

    /// Runs SQL with psql and returns what it printed (unaligned, tuples only).
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-U")
            .arg(&self.user)
            .arg("-d")
            .arg(database)
            .arg("-c")
            .arg(sql)
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql failed on `{sql}`: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// Where Debian puts PostgreSQL's programs: /usr/lib/postgresql/VERSION/bin.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn install() {
    assert!(
        is_root(),
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and this suite is not root, so it cannot install it: `apt-get install postgresql`, then run the tests again"
    );
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !apt(&[
        "install",
        "-y",
        "-q",
        "--no-install-recommends",
        "postgresql",
    ]) {
        assert!(apt(&["update", "-q"]), "apt-get update failed");
        assert!(
            apt(&[
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
                "postgresql"
            ]),
            "apt-get install postgresql failed"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start() -> Postgres {
    let bin = match find_bin() {
        Some(bin) => bin,
        None => {
            install();
            find_bin().expect("PostgreSQL's programs after installing it")
        }
    };
    let root = is_root();
    // As root, the cluster belongs to `nobody`; otherwise to whoever runs the tests.
    let user = if root {
        "nobody".to_owned()
    } else {
        std::env::var("USER").unwrap_or_else(|_| "postgres".into())
    };
    let dir = std::env::temp_dir().join(format!("tiegraph-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the cluster's directory");
    let data = dir.join("data");
    if root {
        let nobody = Command::new("id")
            .args(["-u", "nobody"])
            .output()
            .expect("id nobody");
        let uid: u32 = String::from_utf8_lossy(&nobody.stdout)
            .trim()
            .parse()
            .expect("nobody's uid");
        std::os::unix::fs::chown(&dir, Some(uid), None).expect("chown the cluster's directory");
    }
    let as_owner = |program: &Path| -> Command {
        if root {
            let mut command = Command::new("runuser");
            command.args(["-u", "nobody", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    };
    let initdb = as_owner(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-U", &user, "--auth=trust", "-E", "UTF8", "--locale=C"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run initdb");
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );
    let port = free_port();
    // The watchdog: runs the server, and stops it (and removes its files) once the test
    // binary that started it is gone, however it ended. The signal goes to the postmaster
    // itself (its pid file's first line): `runuser`, the watchdog's child as root, ignores
    // SIGINT rather than pass it on, which left servers running after the suite.
    let postgres = bin.join("postgres");
    let run = if root {
        format!("runuser -u nobody -- {}", postgres.display())
    } else {
        postgres.display().to_string()
    };
    let script = format!(
        "{run} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 -c max_connections=200 > {dir}/server.log 2>&1 &\n\
         pg=$!\n\
         while kill -0 {parent} 2>/dev/null && kill -0 $pg 2>/dev/null; do sleep 1; done\n\
         kill -INT \"$(head -n 1 {data}/postmaster.pid 2>/dev/null)\" 2>/dev/null; wait $pg 2>/dev/null\n\
         rm -rf {dir}\n",
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    // The watchdog outlives the suite on purpose (it stops PostgreSQL after it): not waited on.
    #[allow(clippy::zombie_processes)]
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start PostgreSQL");
    let server = Postgres { bin, port, user };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = Command::new(server.bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "PostgreSQL did not start within 60 s; its log: {}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}
