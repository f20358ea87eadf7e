//! TLS against a real server: libpq's `sslmode` values, `sslrootcert`, and the messages for
//! a certificate that fails verification, a server without TLS and an unreadable root file.
//!
//! Needs a server with `ssl = on` (Debian's packages turn it on with the snakeoil
//! certificate). A server with ssl off fails these tests with a message saying so: they
//! never pass without having tested TLS.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use ferry_core::DbErrorKind;
use ferry_postgres::{BackupMethod, PgDatabase};
use postgres::config::Host;
use postgres::{Client, NoTls};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The test server: how to reach it, and its certificate (`ssl_cert_file`).
struct Server {
    user: String,
    password: Option<String>,
    host: String,
    port: u16,
    dbname: String,
    cert: PathBuf,
}

impl Server {
    /// `None` (skipped, as every test of this crate) when no server answers, unless
    /// FERRY_TEST_PG_REQUIRED is set; a panic when the server has TLS off.
    fn find() -> Option<Server> {
        let url = std::env::var("FERRY_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_URL.to_string());
        let mut client = match Client::connect(&url, NoTls) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var_os("FERRY_TEST_PG_REQUIRED").is_some() {
                    panic!("no PostgreSQL server at {url}: {e}");
                }
                eprintln!("skipping: no PostgreSQL server at {url}: {e}");
                return None;
            }
        };
        let row = client
            .query_one(
                "SELECT current_setting('ssl'), current_setting('ssl_cert_file'), \
                        current_setting('data_directory')",
                &[],
            )
            .unwrap();
        let (ssl, cert, data): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(
            ssl, "on",
            "TLS is not testable here: the server at {url} has ssl = off. Turn it on \
             (ssl = on with ssl_cert_file/ssl_key_file in postgresql.conf; Debian: the \
             ssl-cert package's snakeoil certificate) or point FERRY_TEST_PG_URL at a server with TLS"
        );
        let cert = PathBuf::from(cert);
        let cert = if cert.is_absolute() {
            cert
        } else {
            PathBuf::from(data).join(cert)
        };
        assert!(
            std::fs::read(&cert).is_ok(),
            "TLS is not testable here: cannot read the server's certificate {} (ssl_cert_file)",
            cert.display()
        );
        let config: postgres::Config = url.parse().unwrap();
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            other => {
                panic!("FERRY_TEST_PG_URL must name a TCP host for the TLS tests, not {other:?}")
            }
        };
        Some(Server {
            user: config.get_user().unwrap_or("postgres").to_string(),
            password: config
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            dbname: config.get_dbname().unwrap_or("postgres").to_string(),
            cert,
        })
    }

    /// A URL to the server with `query` (`sslmode=...&...`).
    fn url(&self, query: &str) -> String {
        self.url_as(&self.host, query)
    }

    /// A URL naming the server as `host` (for the certificate check) while connecting to
    /// its real address (`hostaddr`), so no name needs to resolve.
    fn url_named(&self, host: &str, query: &str) -> String {
        let addr: std::net::IpAddr = match self.host.parse() {
            Ok(ip) => ip,
            Err(_) => std::net::ToSocketAddrs::to_socket_addrs(&(self.host.as_str(), self.port))
                .unwrap()
                .next()
                .unwrap()
                .ip(),
        };
        self.url_as(host, &format!("hostaddr={addr}&{query}"))
    }

    fn url_as(&self, host: &str, query: &str) -> String {
        let auth = match &self.password {
            Some(p) => format!("{}:{p}", self.user),
            None => self.user.clone(),
        };
        format!(
            "postgres://{auth}@{host}:{}/{}?{query}",
            self.port, self.dbname
        )
    }

    fn root(&self) -> String {
        self.cert.display().to_string()
    }
}

/// Whether this session's connection is encrypted, as the server sees it.
fn encrypted(db: &mut PgDatabase) -> bool {
    db.client()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0)
}

#[track_caller]
fn connect(url: &str) -> PgDatabase {
    match PgDatabase::connect(url) {
        Ok(db) => db,
        Err(e) => panic!("connect to {url}: {}", e.message),
    }
}

/// The message of a connection that must fail with `DbErrorKind::Connect`.
#[track_caller]
fn refused(url: &str) -> String {
    match PgDatabase::connect(url) {
        Ok(_) => panic!("{url} connected, but should have been refused"),
        Err(e) => {
            assert_eq!(e.kind, DbErrorKind::Connect, "{}", e.message);
            e.message
        }
    }
}

#[track_caller]
fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} not in: {message}");
    }
}

#[test]
fn sslmodes_decide_whether_the_connection_is_encrypted() {
    let Some(server) = Server::find() else { return };
    assert!(encrypted(&mut connect(&server.url("sslmode=require"))));
    // libpq's default is prefer: TLS when the server offers it.
    assert!(encrypted(&mut connect(&server.url("connect_timeout=10"))));
    assert!(encrypted(&mut connect(&server.url("sslmode=prefer"))));
    assert!(!encrypted(&mut connect(&server.url("sslmode=disable"))));
    // allow tries plain first, and the server accepts it.
    assert!(!encrypted(&mut connect(&server.url("sslmode=allow"))));
}

#[test]
fn verify_ca_checks_the_chain_but_not_the_host_name() {
    let Some(server) = Server::find() else { return };
    let root = server.root();
    let mut db = connect(&server.url_named(
        "ferry-tls-test.invalid",
        &format!("sslmode=verify-ca&sslrootcert={root}"),
    ));
    assert!(encrypted(&mut db));
    // require with a root certificate verifies as verify-ca does (libpq).
    let mut db = connect(&server.url(&format!("sslmode=require&sslrootcert={root}")));
    assert!(encrypted(&mut db));
}

#[test]
fn verify_full_checks_the_host_name() {
    let Some(server) = Server::find() else { return };
    let root = server.root();
    let query = format!("sslmode=verify-full&sslrootcert={root}");
    let message = refused(&server.url_named("ferry-tls-test.invalid", &query));
    assert_mentions(
        &message,
        &["ferry-tls-test.invalid", "verify-full", "sslmode=verify-ca"],
    );

    // The certificate names some host: Debian's snakeoil one is made for `localhost` or
    // the machine's host name. One of them must pass.
    let mut names = vec!["localhost".to_string()];
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        names.push(name.trim().to_string());
    }
    let mut failures = Vec::new();
    for name in &names {
        match PgDatabase::connect(&server.url_named(name, &query)) {
            Ok(mut db) => {
                assert!(encrypted(&mut db));
                return;
            }
            Err(e) => failures.push(e.message),
        }
    }
    panic!(
        "verify-full passed for none of {names:?} (the server's certificate {} names another host?): {failures:#?}",
        server.root()
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let Some(server) = Server::find() else { return };
    // Any CA certificate but the server's own: one of the system store's.
    let other = std::fs::read_dir("/etc/ssl/certs")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .filter(|p| std::fs::canonicalize(p).ok() != std::fs::canonicalize(&server.cert).ok())
        .min();
    let Some(other) = other else {
        panic!("no CA certificate in /etc/ssl/certs to test with (install ca-certificates)");
    };
    for mode in ["verify-ca", "verify-full", "require"] {
        let message =
            refused(&server.url(&format!("sslmode={mode}&sslrootcert={}", other.display())));
        assert_mentions(
            &message,
            &[
                "failed verification",
                &format!("sslrootcert={}", other.display()),
                "unknown CA",
            ],
        );
    }
}

#[test]
fn an_unreadable_root_certificate_is_named() {
    let Some(server) = Server::find() else { return };
    let message =
        refused(&server.url("sslmode=verify-full&sslrootcert=/nonexistent/ferry/root.crt"));
    assert_mentions(
        &message,
        &["sslrootcert=/nonexistent/ferry/root.crt", "No such file"],
    );
    // A file that holds no certificate.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let message = refused(&server.url(&format!(
        "sslmode=verify-ca&sslrootcert={}",
        empty.display()
    )));
    assert_mentions(&message, &[&format!("sslrootcert={}", empty.display())]);
}

#[test]
fn scratch_databases_use_the_same_tls_settings() {
    let Some(server) = Server::find() else { return };
    let mut db = connect(&server.url(&format!("sslmode=verify-ca&sslrootcert={}", server.root())));
    let mut scratch = db.scratch_database().expect("scratch database");
    assert!(encrypted(&mut scratch));
    let mut plain = connect(&server.url("sslmode=disable"));
    let mut scratch = plain.scratch_database().expect("scratch database");
    assert!(!encrypted(&mut scratch));
}

/// A server that answers every TLS request with "no" (as one with ssl = off does), once.
fn server_without_tls() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 8];
            if stream.read_exact(&mut request).is_ok() {
                let _ = stream.write_all(b"N");
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest);
            }
        }
    });
    port
}

#[test]
fn require_against_a_server_without_tls_says_so() {
    for mode in [
        "require",
        "verify-full&sslrootcert=/etc/ssl/certs/ssl-cert-snakeoil.pem",
    ] {
        let port = server_without_tls();
        let url = format!("postgres://bob:hunter2secret@127.0.0.1:{port}/app?sslmode={mode}");
        let message = refused(&url);
        assert_mentions(
            &message,
            &["does not accept TLS", "sslmode=prefer", "bob:***@127.0.0.1"],
        );
        assert!(!message.contains("hunter2secret"), "{message}");
    }
}

#[test]
fn bad_tls_settings_fail_before_connecting() {
    let message = refused("postgres://bob:hunter2secret@127.0.0.1:1/app?sslmode=verify");
    assert_mentions(&message, &["sslmode", "verify-full"]);
    assert!(!message.contains("hunter2secret"), "{message}");
    let message = refused("postgres://u@127.0.0.1:1/app?sslrootcert=system&sslmode=verify-ca");
    assert_mentions(&message, &["sslrootcert=system", "sslmode=verify-full"]);
}

#[test]
fn pg_dump_gets_the_same_tls_settings() {
    let Some(server) = Server::find() else { return };
    // verify-ca with the server's certificate: pg_dump (libpq) must get sslmode and
    // sslrootcert too, and connect through the same address.
    let mut db = connect(&server.url_named(
        "ferry-tls-test.invalid",
        &format!("sslmode=verify-ca&sslrootcert={}", server.root()),
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.bin");
    match db.backup_with(&path, BackupMethod::PgDump) {
        Ok(info) => assert!(info.method.starts_with("pg_dump"), "{info:?}"),
        Err(e) => panic!("backup over TLS: {}", e.message),
    }
}
