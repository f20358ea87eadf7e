//! TLS failures through the binary: exit code 6 (cannot connect) and a message that names
//! the setting to change, without the password. The TLS behaviour against a real server is
//! tested in `crates/ferry-postgres/tests/tls.rs`.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

/// A server that answers a TLS request with "no", as one with ssl = off does (once).
fn server_without_tls() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut request = [0u8; 8];
            if stream.read_exact(&mut request).is_ok() {
                let _ = stream.write_all(b"N");
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
    });
    port
}

#[test]
fn require_against_a_server_without_tls_exits_6() {
    let port = server_without_tls();
    let from = format!("postgres://bob:hunter2secret@127.0.0.1:{port}/app?sslmode=require");
    let out = common::run(&["diff", "--from", &from, "--to", &from]);
    assert_eq!(out.code, 6, "{out}");
    assert!(out.stderr.contains("does not accept TLS"), "{out}");
    assert!(out.stderr.contains("sslmode=prefer"), "{out}");
    assert!(!out.stderr.contains("hunter2secret"), "{out}");
}

#[test]
fn an_unreadable_root_certificate_exits_6() {
    // Fails before any connection is attempted: no server needed.
    let from = "postgres://bob:hunter2secret@127.0.0.1:1/app?sslmode=verify-full&sslrootcert=/nonexistent/root.crt";
    let out = common::run(&["diff", "--from", from, "--to", from]);
    assert_eq!(out.code, 6, "{out}");
    assert!(
        out.stderr.contains("sslrootcert=/nonexistent/root.crt"),
        "{out}"
    );
    assert!(!out.stderr.contains("hunter2secret"), "{out}");
}

#[test]
fn an_unknown_sslmode_exits_6() {
    let from = "postgres://u@127.0.0.1:1/app?sslmode=verify";
    let out = common::run(&["diff", "--from", from, "--to", from]);
    assert_eq!(out.code, 6, "{out}");
    assert!(out.stderr.contains("verify-full"), "{out}");
}
