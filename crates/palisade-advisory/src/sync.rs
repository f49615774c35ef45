//! `palisade db sync`: download osv.dev's npm `all.zip` and import it.
//!
//! The body is streamed to a temporary file in `PALISADE_HOME` with a size
//! cap, checked against `Content-Length`, then imported atomically; a failed or
//! partial download never touches the current index.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;

use crate::import::{import_with_meta, ImportOptions, ImportProgress, ImportSummary};
use crate::AdvisoryError;

/// osv.dev's export of every npm record (GHSA, MAL, …), one JSON per entry.
pub const DEFAULT_SYNC_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip";

/// Largest download accepted (the npm `all.zip` is well under this).
pub const MAX_DOWNLOAD_BYTES: u64 = 2 << 30;

/// Downloads `url` (a zip in osv.dev's `all.zip` layout) and imports it as
/// [`crate::import()`] does, recording the URL and time for `db status`.
pub fn sync(home: &Path, url: &str, options: ImportOptions<'_>) -> Result<ImportSummary, AdvisoryError> {
    sync_with_cap(home, url, options, MAX_DOWNLOAD_BYTES)
}

pub(crate) fn sync_with_cap(
    home: &Path,
    url: &str,
    options: ImportOptions<'_>,
    max_bytes: u64,
) -> Result<ImportSummary, AdvisoryError> {
    let fail = |reason: String| AdvisoryError::Download {
        url: url.to_string(),
        reason,
    };
    std::fs::create_dir_all(home).map_err(|e| AdvisoryError::io("create directory", home, e))?;
    let mut download = tempfile::Builder::new()
        .prefix(".advisories-download-")
        .suffix(".zip.partial")
        .tempfile_in(home)
        .map_err(|e| AdvisoryError::io("create a temporary file in", home, e))?;

    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(30 * 60))
        .user_agent(concat!("palisade/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail(format!("cannot create an HTTP client: {e}")))?;
    let mut response = client.get(url).send().map_err(|e| fail(error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("the server answered {status}")));
    }
    let expected = response.content_length();
    if let Some(length) = expected.filter(|length| *length > max_bytes) {
        return Err(fail(format!(
            "the file is {length} bytes, more than the limit of {max_bytes}"
        )));
    }

    let mut received = 0u64;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut last_report = 0u64;
    loop {
        let read = response
            .read(&mut buffer)
            .map_err(|e| fail(format!("the download broke off: {e}")))?;
        if read == 0 {
            break;
        }
        received += read as u64;
        if received > max_bytes {
            return Err(fail(format!("more than the limit of {max_bytes} bytes")));
        }
        download
            .write_all(&buffer[..read])
            .map_err(|e| AdvisoryError::io("write", download.path(), e))?;
        if let Some(progress) = options.progress {
            if received - last_report >= 1 << 20 {
                last_report = received;
                progress(ImportProgress::Downloading {
                    bytes: received,
                    total: expected,
                });
            }
        }
    }
    if let Some(length) = expected.filter(|length| *length != received) {
        return Err(fail(format!("the download stopped after {received} of {length} bytes")));
    }
    download
        .as_file()
        .sync_all()
        .map_err(|e| AdvisoryError::io("flush", download.path(), e))?;
    if let Some(progress) = options.progress {
        progress(ImportProgress::Downloading {
            bytes: received,
            total: expected,
        });
    }

    let now = time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default();
    let sources = [download.path().to_path_buf()];
    // `download` (the temporary file) is removed when it goes out of scope,
    // whatever the import's outcome.
    import_with_meta(home, &sources, options, &[("synced_at", &now), ("sync_url", url)])
}

/// The error with its causes ("error sending request: connection refused").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn downloads_over_the_cap_are_refused_and_leave_nothing_behind() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/all.zip", listener.local_addr().expect("address"));
        let server = std::thread::spawn(move || {
            // One connection announcing its size, one streaming without Content-Length.
            for with_length in [true, false] {
                let Ok((mut stream, _)) = listener.accept() else { return };
                let mut request = [0u8; 2048];
                let _ = stream.read(&mut request);
                let body = vec![b'x'; 4096];
                let header = if with_length {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string()
                };
                let _ = stream.write_all(header.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        let home = tempfile::tempdir().expect("tempdir");
        for _ in 0..2 {
            let error = sync_with_cap(home.path(), &url, ImportOptions::default(), 1024).expect_err("over the cap");
            assert!(error.to_string().contains("limit"), "{error}");
        }
        server.join().expect("server thread");
        let left: Vec<_> = std::fs::read_dir(home.path()).expect("list").collect();
        assert!(left.is_empty(), "nothing may be left behind: {left:?}");
    }
}
