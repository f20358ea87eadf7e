//! TLS for PostgreSQL connections, with libpq's URL parameters (`sslmode`, `sslrootcert`,
//! `sslcert`, `sslkey`) and libpq's meaning for each mode. rustls does the TLS (ring as
//! its crypto provider: no OpenSSL).
//!
//! The `postgres` crate only knows `sslmode=disable|prefer|require` and rejects the other
//! keys, so [`ConnectConfig::parse`] takes them out of the URL before it parses the rest.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_core::url::{redact, redact_in};
use ferry_core::{DbError, DbErrorKind};
use postgres::config::{Host, SslMode as PgSslMode};
use postgres::{Client, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::database::pg_message;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// Plain first; TLS when the server refuses a plain connection.
    Allow,
    /// TLS when the server offers it (without verifying its certificate), plain otherwise.
    #[default]
    Prefer,
    /// TLS always; the certificate is verified only when `sslrootcert` is given.
    Require,
    /// TLS, with the certificate chain checked against `sslrootcert`; not the host name.
    VerifyCa,
    /// TLS, with the chain and the host name checked.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// `sslrootcert=system`: the operating system's store.
    System,
    /// A PEM file of one or more certificates.
    File(PathBuf),
}

impl fmt::Display for RootCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootCert::System => f.write_str("system"),
            RootCert::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The TLS settings of a connection, as libpq names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// `sslrootcert`; for `verify-ca`/`verify-full` without it, libpq's default
    /// `~/.postgresql/root.crt`.
    pub root_cert: Option<RootCert>,
    /// `sslcert`: the client certificate (chain), PEM.
    pub client_cert: Option<PathBuf>,
    /// `sslkey`: the client certificate's private key, PEM, unencrypted.
    pub client_key: Option<PathBuf>,
}

/// Everything needed to open (another) connection: the driver's settings and ours.
#[derive(Clone)]
pub struct ConnectConfig {
    /// Holds the password: never print it.
    pub(crate) pg: postgres::Config,
    pub(crate) tls: TlsSettings,
}

impl ConnectConfig {
    /// Parses a `postgres://` URL. The TLS keys are taken out of the query (libpq's names
    /// and values); everything else goes to the driver as it was.
    pub fn parse(url: &str) -> Result<ConnectConfig, DbError> {
        let (rest, tls) = split_tls_params(url).map_err(|m| connect_error(url, &m))?;
        let mut pg: postgres::Config = rest.parse().map_err(|e: postgres::Error| {
            connect_error(url, &redact_in(&pg_message(&e), &[url]))
        })?;
        // The driver's own mode is set per attempt in `connect`.
        pg.ssl_mode(PgSslMode::Disable);
        Ok(ConnectConfig { pg, tls })
    }

    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    /// Opens a connection as libpq would with these settings.
    pub(crate) fn connect(&self) -> Result<Client, ConnectFailure> {
        let mut pg = self.pg.clone();
        match self.tls.mode {
            SslMode::Disable => {
                pg.ssl_mode(PgSslMode::Disable);
                pg.connect(NoTls).map_err(|e| self.failure(e))
            }
            SslMode::Allow => {
                pg.ssl_mode(PgSslMode::Disable);
                match pg.connect(NoTls) {
                    Ok(client) => Ok(client),
                    // The server turned the plain connection down (pg_hba.conf `hostssl`):
                    // try again with TLS. A server that cannot be reached is not retried.
                    Err(e) if e.as_db_error().is_some() => {
                        pg.ssl_mode(PgSslMode::Require);
                        pg.connect(self.connector()?).map_err(|e| self.failure(e))
                    }
                    Err(e) => Err(self.failure(e)),
                }
            }
            SslMode::Prefer => {
                pg.ssl_mode(PgSslMode::Prefer);
                match pg.connect(self.connector()?) {
                    Ok(client) => Ok(client),
                    // libpq falls back to a plain connection when the handshake fails.
                    Err(e) if is_handshake_error(&e) => {
                        pg.ssl_mode(PgSslMode::Disable);
                        pg.connect(NoTls).map_err(|e| self.failure(e))
                    }
                    Err(e) => Err(self.failure(e)),
                }
            }
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                pg.ssl_mode(PgSslMode::Require);
                pg.connect(self.connector()?).map_err(|e| self.failure(e))
            }
        }
    }

    /// The rustls connector for these settings.
    fn connector(&self) -> Result<MakeRustlsConnect, ConnectFailure> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConnectFailure(format!("cannot set up TLS: {e}")))?;
        let verify = match self.tls.mode {
            SslMode::VerifyCa => Some(Verify::Chain),
            SslMode::VerifyFull => Some(Verify::Full),
            // libpq: `require` with a root certificate verifies as verify-ca does.
            SslMode::Require if self.tls.root_cert.is_some() => Some(Verify::Chain),
            _ => None,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match verify {
            None => Arc::new(NoVerifier(provider.clone())),
            Some(how) => {
                let (roots, source) = self.roots()?;
                let webpki =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| {
                            ConnectFailure(format!(
                                "cannot use the root certificates in sslrootcert={source}: {e}"
                            ))
                        })?;
                match how {
                    Verify::Full => webpki,
                    Verify::Chain => Arc::new(ChainOnly(webpki)),
                }
            }
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match (&self.tls.client_cert, &self.tls.client_key) {
            (None, None) => builder.with_no_client_auth(),
            (Some(cert), Some(key)) => {
                let chain = read_certs(cert).map_err(|m| {
                    ConnectFailure(format!("cannot read sslcert={}: {m}", cert.display()))
                })?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    ConnectFailure(format!(
                        "cannot read sslkey={}: {} (an unencrypted PEM private key is needed)",
                        key.display(),
                        pem_error(&e)
                    ))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    ConnectFailure(format!(
                        "cannot use the client certificate in sslcert/sslkey: {e}"
                    ))
                })?
            }
            (Some(_), None) => {
                return Err(ConnectFailure(
                    "sslcert is given without sslkey: add sslkey=PATH to the URL".into(),
                ))
            }
            (None, Some(_)) => {
                return Err(ConnectFailure(
                    "sslkey is given without sslcert: add sslcert=PATH to the URL".into(),
                ))
            }
        };
        Ok(MakeRustlsConnect::new(config))
    }

    /// The trusted roots and where they came from (for messages).
    fn roots(&self) -> Result<(RootCertStore, RootCert), ConnectFailure> {
        let source = match &self.tls.root_cert {
            Some(root) => root.clone(),
            None => {
                let default = std::env::var_os("HOME")
                    .map(|home| Path::new(&home).join(".postgresql/root.crt"))
                    .filter(|path| path.is_file());
                match default {
                    Some(path) => RootCert::File(path),
                    None => {
                        return Err(ConnectFailure(format!(
                            "sslmode={} verifies the server's certificate and needs the CA that signed it: \
                             add sslrootcert=PATH (a PEM file) or sslrootcert=system (the operating system's store) to the URL, \
                             or use sslmode=require to encrypt without verifying",
                            self.tls.mode.as_str()
                        )))
                    }
                }
            }
        };
        let mut roots = RootCertStore::empty();
        match &source {
            RootCert::System => {
                let found = rustls_native_certs::load_native_certs();
                if found.certs.is_empty() {
                    let why = found
                        .errors
                        .first()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    return Err(ConnectFailure(format!(
                        "sslrootcert=system: no CA certificates found in the operating system's store{why}; \
                         install them (Debian: ca-certificates) or set sslrootcert=PATH"
                    )));
                }
                roots.add_parsable_certificates(found.certs);
            }
            RootCert::File(path) => {
                let certs = read_certs(path).map_err(|m| {
                    ConnectFailure(format!(
                        "cannot read sslrootcert={}: {m}; set sslrootcert to a readable PEM file of the CA certificate(s)",
                        path.display()
                    ))
                })?;
                let (added, _) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(ConnectFailure(format!(
                        "sslrootcert={}: no usable certificate in the file; set sslrootcert to a PEM file of the CA certificate(s)",
                        path.display()
                    )));
                }
            }
        }
        Ok((roots, source))
    }

    fn failure(&self, e: postgres::Error) -> ConnectFailure {
        let mut message = tls_message(&e, self).unwrap_or_else(|| pg_message(&e));
        if let Some(password) = self.pg.get_password() {
            let password = String::from_utf8_lossy(password);
            if !password.is_empty() {
                message = message.replace(password.as_ref(), "***");
            }
        }
        ConnectFailure(message)
    }
}

/// Why a connection could not be opened: one line without the password. A TLS setting
/// that is wrong or does not fit the server is named with the value to change.
pub(crate) struct ConnectFailure(String);

impl ConnectFailure {
    /// The message, also without any password found in `url`.
    pub(crate) fn message(&self, url: &str) -> String {
        redact_in(&self.0, &[url])
    }
}

/// `cannot connect to URL: ...`, without the password.
fn connect_error(url: &str, message: &str) -> DbError {
    DbError::new(
        DbErrorKind::Connect,
        format!("cannot connect to {}: {message}", redact(url)),
    )
}

enum Verify {
    Chain,
    Full,
}

/// Splits libpq's TLS keys off a URL's query: (the URL without them, the settings).
fn split_tls_params(url: &str) -> Result<(String, TlsSettings), String> {
    let mut tls = TlsSettings::default();
    let (base, query) = match url.split_once('?') {
        Some((base, query)) if url.contains("://") => (base, query),
        _ => return Ok((url.to_string(), tls)),
    };
    let (query, fragment) = match query.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (query, None),
    };
    let mut mode = None;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match percent_decode(key).as_str() {
            "sslmode" => {
                mode = Some(SslMode::parse(&value).ok_or_else(|| {
                    format!(
                        "invalid sslmode={value:?}: use disable, allow, prefer, require, verify-ca or verify-full"
                    )
                })?)
            }
            "sslrootcert" => {
                tls.root_cert = Some(if value == "system" {
                    RootCert::System
                } else {
                    RootCert::File(PathBuf::from(value))
                })
            }
            "sslcert" => tls.client_cert = Some(PathBuf::from(value)),
            "sslkey" => tls.client_key = Some(PathBuf::from(value)),
            "sslpassword" => {
                return Err(
                    "sslpassword (an encrypted client key) is not supported: decrypt the key \
                     (openssl pkey -in key.pem -out plain.pem) and drop sslpassword from the URL"
                        .into(),
                )
            }
            _ => kept.push(pair),
        }
    }
    tls.mode = match (mode, &tls.root_cert) {
        (Some(mode), _) => mode,
        // libpq (16+): sslrootcert=system makes verify-full the default.
        (None, Some(RootCert::System)) => SslMode::VerifyFull,
        (None, _) => SslMode::Prefer,
    };
    if tls.root_cert == Some(RootCert::System) && tls.mode != SslMode::VerifyFull {
        return Err(format!(
            "sslrootcert=system needs sslmode=verify-full (as libpq): the operating system's CAs sign \
             certificates for any host, so the host name must be checked; got sslmode={}",
            tls.mode.as_str()
        ));
    }
    let mut out = base.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    Ok((out, tls))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(&e))?;
    if certs.is_empty() {
        return Err("no PEM certificate in the file".into());
    }
    Ok(certs)
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        rustls::pki_types::pem::Error::NoItemsFound => "no PEM item of the right kind".into(),
        other => format!("not valid PEM ({other:?})"),
    }
}

/// The rustls error behind a driver error, if any.
fn rustls_error(e: &postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return Some(r);
            }
        }
        source = s.source();
    }
    None
}

fn is_handshake_error(e: &postgres::Error) -> bool {
    e.as_db_error().is_none()
        && (rustls_error(e).is_some() || e.to_string().contains("TLS handshake"))
}

/// A message naming the setting to change, for TLS failures.
fn tls_message(e: &postgres::Error, config: &ConnectConfig) -> Option<String> {
    let tls = &config.tls;
    let host = config
        .pg
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(dir) => dir.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let roots = tls
        .root_cert
        .as_ref()
        .map(|r| format!("sslrootcert={r}"))
        .unwrap_or_else(|| "sslrootcert (~/.postgresql/root.crt)".into());
    if let Some(err) = rustls_error(e) {
        return Some(match err {
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => format!(
                "the server's certificate is not valid for the host name \"{host}\" \
                 (sslmode=verify-full checks it): connect with a host name the certificate names, \
                 or use sslmode=verify-ca to check the certificate chain only"
            ),
            rustls::Error::InvalidCertificate(cert_error) => format!(
                "the server's certificate failed verification against {roots} ({}): \
                 set sslrootcert to the CA that signed the server's certificate, or {}",
                describe_cert_error(cert_error),
                if tls.mode == SslMode::Require {
                    "drop sslrootcert to encrypt without verifying (sslmode=require verifies when it is given)"
                } else {
                    "use sslmode=require (without sslrootcert) to encrypt without verifying"
                }
            ),
            other => format!(
                "TLS with the server failed ({other}) under sslmode={}: \
                 check the server's TLS setup, or change sslmode",
                tls.mode.as_str()
            ),
        });
    }
    if e.as_db_error().is_none() && e.to_string().contains("server does not support TLS")
        || pg_message(e).contains("server does not support TLS")
    {
        return Some(format!(
            "the server at {host} does not accept TLS connections, and sslmode={} requires TLS: \
             enable ssl on the server, or set sslmode=prefer (or disable) in the URL",
            tls.mode.as_str()
        ));
    }
    None
}

fn describe_cert_error(e: &CertificateError) -> String {
    match e {
        CertificateError::UnknownIssuer => "signed by an unknown CA".into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not valid yet".into()
        }
        CertificateError::BadSignature => "bad signature".into(),
        CertificateError::Revoked => "revoked".into(),
        other => format!("{other:?}"),
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            // The name is checked last, after the chain: this error means the chain passed.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer`/`require` without a root certificate: encrypted, any certificate accepted (as
/// libpq). The handshake signatures are still checked, so the server holds the key of the
/// certificate it sent (which channel binding then ties to SCRAM authentication).
#[derive(Debug)]
struct NoVerifier(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (String, TlsSettings) {
        split_tls_params(url).unwrap()
    }

    #[test]
    fn takes_the_tls_keys_out_of_the_url() {
        let (rest, tls) = split(
            "postgres://u:p@db:5432/app?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
        );
        assert_eq!(
            rest,
            "postgres://u:p@db:5432/app?application_name=x&connect_timeout=3"
        );
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.root_cert, Some(RootCert::File("/etc/ca.pem".into())));

        let (rest, tls) = split("postgres://db/app?sslmode=require");
        assert_eq!(rest, "postgres://db/app");
        assert_eq!(tls.mode, SslMode::Require);

        let (rest, tls) = split("postgres://db/app");
        assert_eq!(rest, "postgres://db/app");
        assert_eq!(tls, TlsSettings::default());
        assert_eq!(tls.mode, SslMode::Prefer);

        let (_, tls) = split("postgres://db/app?sslrootcert=system");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.root_cert, Some(RootCert::System));

        let (_, tls) = split("postgres://db/app?sslcert=/c.pem&sslkey=/k.pem&sslmode=allow");
        assert_eq!(tls.mode, SslMode::Allow);
        assert_eq!(tls.client_cert, Some("/c.pem".into()));
        assert_eq!(tls.client_key, Some("/k.pem".into()));
    }

    #[test]
    fn refuses_bad_tls_keys() {
        let err = split_tls_params("postgres://db/app?sslmode=verify").unwrap_err();
        assert!(err.contains("sslmode"), "{err}");
        let err =
            split_tls_params("postgres://db/app?sslrootcert=system&sslmode=require").unwrap_err();
        assert!(err.contains("verify-full"), "{err}");
        let err = split_tls_params("postgres://db/app?sslpassword=x").unwrap_err();
        assert!(err.contains("sslpassword"), "{err}");
    }

    #[test]
    fn parses_into_the_driver_config() {
        let config = ConnectConfig::parse(
            "postgres://u:secret@db:5433/app?sslmode=verify-ca&sslrootcert=/ca.pem",
        )
        .unwrap();
        assert_eq!(config.pg.get_dbname(), Some("app"));
        assert_eq!(config.pg.get_ports(), &[5433]);
        assert_eq!(config.tls.mode, SslMode::VerifyCa);
        let err = ConnectConfig::parse("postgres://u:secret@db/app?sslmode=nope&bogus=1")
            .err()
            .unwrap();
        assert!(!err.message.contains("secret"), "{}", err.message);
        assert!(err.message.contains("sslmode"), "{}", err.message);
    }
}
