//! Hostile and real archives through the public readers. Tarballs are built byte by byte so
//! the tests can write what well-behaved tar writers refuse to (`..`, absolute names,
//! devices, broken checksums).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::{Compress, Compression, Crc, FlushCompress};
use palisade_tarball::{read_bytes, read_dir, read_path, read_tgz, read_zip, IssueKind, Limits, TarballError};

fn octal(field: &mut [u8], value: u64) {
    let text = format!("{value:0width$o}", width = field.len() - 1);
    field[..text.len()].copy_from_slice(text.as_bytes());
}

fn header(name: &[u8], typeflag: u8, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], 499_162_500);
    h[148..156].copy_from_slice(b"        ");
    h[156] = typeflag;
    let l = link.len().min(100);
    h[157..157 + l].copy_from_slice(&link[..l]);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

fn entry(tar: &mut Vec<u8>, name: &[u8], typeflag: u8, data: &[u8], link: &[u8]) {
    tar.extend_from_slice(&header(name, typeflag, data.len() as u64, link));
    tar.extend_from_slice(data);
    tar.resize(tar.len().div_ceil(512) * 512, 0);
}

fn file(tar: &mut Vec<u8>, name: &str, data: &[u8]) {
    entry(tar, name.as_bytes(), b'0', data, b"");
}

fn finish(mut tar: Vec<u8>) -> Vec<u8> {
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

fn kinds(contents: &palisade_tarball::PackageContents) -> Vec<IssueKind> {
    contents.issues.iter().map(|i| i.kind).collect()
}

fn paths(contents: &palisade_tarball::PackageContents) -> Vec<&str> {
    contents.files.iter().map(|f| f.path.as_str()).collect()
}

const MANIFEST: &[u8] = br#"{"name":"t","version":"1.0.0"}"#;

#[test]
fn real_npm_tarball() {
    let bytes = std::fs::read("tests/fixtures/is-number-7.0.0.tgz").expect("fixture");
    let contents = read_tgz(&bytes, "is-number-7.0.0.tgz", &Limits::default()).expect("a real tarball reads");
    assert_eq!(paths(&contents), ["package.json", "index.js", "LICENSE", "README.md"]);
    assert!(contents.issues.is_empty(), "{:?}", contents.issues);
    let manifest: serde_json::Value =
        serde_json::from_slice(contents.manifest_bytes().expect("manifest")).expect("json");
    assert_eq!(manifest["name"], "is-number");
    assert_eq!(contents.compressed_bytes, bytes.len() as u64);
    assert_eq!(contents.unpacked_bytes, 1599 + 411 + 1091 + 6514);
    assert_eq!(contents.file("index.js").map(|f| f.mode), Some(0o644));
}

#[test]
fn plain_tar_and_any_top_folder() {
    let mut tar = Vec::new();
    file(&mut tar, "node/package.json", MANIFEST);
    file(&mut tar, "node/lib/a.js", b"1");
    let tar = finish(tar);
    let contents = read_tgz(&tar, "plain.tar", &Limits::default()).expect("plain tar is accepted");
    assert_eq!(paths(&contents), ["package.json", "lib/a.js"]);
}

/// A gzip stream of `zeros` zero bytes inside one tar entry, built without ever holding
/// them: one megabyte is compressed once with a full flush (which byte-aligns the output
/// and resets the history) and the same compressed segment is repeated.
fn gzip_bomb(zeros_mib: u64) -> Vec<u8> {
    let chunk = vec![0u8; 1 << 20];
    let tar_header = header(b"package/zeros.js", b'0', zeros_mib << 20, b"");
    let mut compress = Compress::new(Compression::best(), false);
    let mut run = |input: &[u8], flush: FlushCompress| {
        let mut out = Vec::with_capacity(input.len() + 1024);
        let start = compress.total_in();
        loop {
            let consumed = (compress.total_in() - start) as usize;
            out.reserve(64 * 1024);
            let status = compress
                .compress_vec(&input[consumed..], &mut out, flush)
                .expect("deflate");
            if (compress.total_in() - start) as usize == input.len() && out.capacity() > out.len() {
                let _ = status;
                break;
            }
        }
        out
    };
    let first = run(&tar_header, FlushCompress::Full);
    let segment = run(&chunk, FlushCompress::Full);
    let tail = run(&[], FlushCompress::Finish);
    let mut crc = Crc::new();
    crc.update(&tar_header);
    let mut chunk_crc = Crc::new();
    chunk_crc.update(&chunk);
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend_from_slice(&first);
    for _ in 0..zeros_mib {
        gz.extend_from_slice(&segment);
        crc.combine(&chunk_crc);
    }
    gz.extend_from_slice(&tail);
    gz.extend_from_slice(&crc.sum().to_le_bytes());
    gz.extend_from_slice(&((512 + (zeros_mib << 20)) as u32).to_le_bytes());
    gz
}

#[test]
fn gzip_bomb_stops_fast_with_a_ratio_issue() {
    // 4 GiB of zeros in about 4 MB.
    let bomb = gzip_bomb(4096);
    assert!(bomb.len() < 8 << 20, "bomb is {} bytes", bomb.len());
    let started = Instant::now();
    let contents = read_tgz(&bomb, "bomb.tgz", &Limits::default()).expect("a bomb is a finding, not an error");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(kinds(&contents), [IssueKind::CompressionRatio]);
    assert!(contents.files.is_empty());
    assert!(contents.issues[0].message.contains("compression bomb"));
}

#[test]
fn small_gzip_bomb_is_a_valid_gzip_stream() {
    // The construction above must be a real gzip file, or the bomb test proves nothing.
    let bomb = gzip_bomb(2);
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bomb[..]), &mut decoded).expect("valid gzip");
    assert_eq!(decoded.len(), 512 + (2 << 20));
}

#[test]
fn total_size_limit_stops_extraction() {
    let mut tar = Vec::new();
    for i in 0..10 {
        file(&mut tar, &format!("package/f{i}.js"), &[b'a'; 4096]);
    }
    let limits = Limits {
        max_total_bytes: 20_000,
        ..Limits::default()
    };
    let contents = read_tgz(&gzip(&finish(tar)), "big.tgz", &limits).expect("limits yield issues");
    assert_eq!(kinds(&contents), [IssueKind::TotalTooLarge]);
    assert!(contents.files.len() < 10);
    assert!(contents.unpacked_bytes <= 20_000);
}

#[test]
fn oversized_file_is_skipped_and_reported() {
    let mut tar = Vec::new();
    file(&mut tar, "package/package.json", MANIFEST);
    file(&mut tar, "package/huge.js", &vec![b'x'; 10_000]);
    file(&mut tar, "package/small.js", b"ok");
    let limits = Limits {
        max_file_bytes: 5_000,
        ..Limits::default()
    };
    let contents = read_tgz(&finish(tar), "t.tar", &limits).expect("reads");
    assert_eq!(paths(&contents), ["package.json", "small.js"]);
    assert_eq!(kinds(&contents), [IssueKind::FileTooLarge]);
    assert_eq!(contents.issues[0].path, "huge.js");
}

#[test]
fn tar_bomb_of_100000_entries_is_cut_at_the_entry_limit() {
    let mut tar = Vec::with_capacity(100_001 * 512);
    tar.extend_from_slice(&header(b"package/package.json", b'0', MANIFEST.len() as u64, b""));
    tar.extend_from_slice(MANIFEST);
    tar.resize(1024, 0);
    for i in 0..100_000 {
        tar.extend_from_slice(&header(format!("package/f/{i}").as_bytes(), b'0', 0, b""));
    }
    let tgz = gzip(&finish(tar));
    let started = Instant::now();
    let contents = read_tgz(&tgz, "many.tgz", &Limits::default()).expect("an entry bomb is a finding");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(contents.files.len(), 50_000);
    assert_eq!(kinds(&contents), [IssueKind::TooManyEntries]);
}

#[test]
fn escapes_and_special_entries_are_skipped_with_issues() {
    let mut tar = Vec::new();
    file(&mut tar, "package/package.json", MANIFEST);
    file(&mut tar, "package/../../etc/cron.d/x", b"evil");
    file(&mut tar, "/etc/passwd", b"evil");
    file(&mut tar, "package\\..\\..\\win.ini", b"evil");
    entry(&mut tar, b"package/link", b'2', b"", b"/home/user/.npmrc");
    entry(&mut tar, b"package/hard", b'1', b"", b"package/package.json");
    entry(&mut tar, b"package/chr", b'3', b"", b"");
    entry(&mut tar, b"package/blk", b'4', b"", b"");
    entry(&mut tar, b"package/fifo", b'6', b"", b"");
    entry(&mut tar, b"package/vendor", b'Z', b"data", b"");
    entry(&mut tar, b"package/dir/", b'5', b"", b"");
    file(&mut tar, "stray.js", b"outside the package folder");
    file(&mut tar, "package/index.js", b"ok");
    let contents = read_tgz(&gzip(&finish(tar)), "hostile.tgz", &Limits::default()).expect("reads");
    assert_eq!(paths(&contents), ["package.json", "index.js"], "{:?}", contents.issues);
    assert_eq!(
        kinds(&contents),
        [
            IssueKind::PathTraversal,
            IssueKind::AbsolutePath,
            IssueKind::PathTraversal,
            IssueKind::Symlink,
            IssueKind::HardLink,
            IssueKind::Device,
            IssueKind::Device,
            IssueKind::Device,
            IssueKind::UnsupportedEntry,
            IssueKind::InvalidPath,
        ]
    );
    assert!(contents.issues[3].message.contains("/home/user/.npmrc"));
    assert_eq!(contents.issues[1].path, "/etc/passwd");
}

#[test]
fn invalid_utf8_names_are_kept_lossily_and_reported() {
    let mut tar = Vec::new();
    entry(&mut tar, b"package/\xff\xfeevil.js", b'0', b"payload()", b"");
    let contents = read_tgz(&finish(tar), "t.tar", &Limits::default()).expect("reads");
    assert_eq!(paths(&contents), ["\u{fffd}\u{fffd}evil.js"]);
    assert_eq!(kinds(&contents), [IssueKind::InvalidPath]);
}

#[test]
fn gnu_and_pax_long_names() {
    let long_gnu = format!("package/{}/gnu.js", "d".repeat(150));
    let long_pax = format!("package/{}/pax.js", "p".repeat(200));
    let mut tar = Vec::new();
    let mut name = long_gnu.clone().into_bytes();
    name.push(0);
    entry(&mut tar, b"././@LongLink", b'L', &name, b"");
    file(&mut tar, "package/truncated-name", b"gnu");
    let record = format!("path={long_pax}\n");
    let mut len = record.len() + 4;
    if format!("{len} {record}").len() != len {
        len += 1;
    }
    entry(
        &mut tar,
        b"PaxHeaders/x",
        b'x',
        format!("{len} {record}").as_bytes(),
        b"",
    );
    file(&mut tar, "package/short", b"pax");
    let contents = read_tgz(&gzip(&finish(tar)), "long.tgz", &Limits::default()).expect("reads");
    assert_eq!(
        paths(&contents),
        [&long_gnu["package/".len()..], &long_pax["package/".len()..]]
    );
    assert!(contents.issues.is_empty(), "{:?}", contents.issues);

    let limits = Limits {
        max_path_len: 100,
        ..Limits::default()
    };
    let contents = read_tgz(&gzip(&finish(tar_with_long_name(&long_gnu))), "long.tgz", &limits).expect("reads");
    assert!(contents.files.is_empty());
    assert_eq!(kinds(&contents), [IssueKind::InvalidPath]);
}

fn tar_with_long_name(name: &str) -> Vec<u8> {
    let mut tar = Vec::new();
    let mut bytes = name.as_bytes().to_vec();
    bytes.push(0);
    entry(&mut tar, b"././@LongLink", b'L', &bytes, b"");
    file(&mut tar, "package/x", b"x");
    tar
}

#[test]
fn duplicates_keep_the_last_copy() {
    let mut tar = Vec::new();
    file(&mut tar, "package/package.json", br#"{"name":"first"}"#);
    file(&mut tar, "package/index.js", b"1");
    file(&mut tar, "other/package.json", br#"{"name":"last"}"#);
    let contents = read_tgz(&finish(tar), "dup.tar", &Limits::default()).expect("reads");
    assert_eq!(paths(&contents), ["package.json", "index.js"]);
    assert_eq!(contents.manifest_bytes(), Some(&br#"{"name":"last"}"#[..]));
    assert_eq!(kinds(&contents), [IssueKind::DuplicatePath]);
}

/// Deterministic incompressible bytes.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

#[test]
fn truncated_gzip() {
    let mut tar = Vec::new();
    file(&mut tar, "package/package.json", MANIFEST);
    file(&mut tar, "package/blob.bin", &noise(200_000));
    let tgz = gzip(&finish(tar));

    // Cut inside the second file: the first is kept, the cut is reported.
    let cut = &tgz[..tgz.len() * 3 / 4];
    let contents = read_tgz(cut, "cut.tgz", &Limits::default()).expect("files were read");
    assert_eq!(paths(&contents), ["package.json"]);
    assert_eq!(kinds(&contents), [IssueKind::Truncated]);

    // Cut before anything could be read: an error naming the origin.
    let error = read_tgz(&tgz[..30], "cut.tgz", &Limits::default()).expect_err("nothing readable");
    assert!(matches!(error, TarballError::Malformed { .. }));
    assert!(
        error.to_string().starts_with("cut.tgz: truncated or corrupt gzip"),
        "{error}"
    );
}

#[test]
fn corrupt_and_foreign_inputs_are_errors() {
    let mut tgz = gzip(&finish({
        let mut tar = Vec::new();
        file(&mut tar, "package/package.json", MANIFEST);
        tar
    }));
    for byte in &mut tgz[12..40] {
        *byte ^= 0x5a;
    }
    assert!(matches!(
        read_tgz(&tgz, "x.tgz", &Limits::default()),
        Err(TarballError::Malformed { .. })
    ));
    let error = read_tgz(b"<html>not found</html>", "x.tgz", &Limits::default()).expect_err("html");
    assert_eq!(
        error.to_string(),
        "x.tgz: not a gzip-compressed tarball or a tar archive"
    );
    assert!(read_tgz(b"", "empty.tgz", &Limits::default()).is_err());
    // A gzip of something that is not a tar.
    assert!(read_tgz(&gzip(&[7u8; 2048]), "x.tgz", &Limits::default()).is_err());
    // A bad header checksum on the first entry.
    let mut tar = finish({
        let mut tar = Vec::new();
        file(&mut tar, "package/package.json", MANIFEST);
        tar
    });
    tar[0] = b'q';
    assert!(read_bytes(&tar, "x.tar", None, &Limits::default()).is_err());
}

#[test]
fn directory_reader() {
    let temp = tempfile::tempdir().expect("tempdir");
    let root = temp.path();
    std::fs::create_dir_all(root.join("lib")).expect("mkdir");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    std::fs::create_dir_all(root.join("node_modules/dep")).expect("mkdir");
    std::fs::write(root.join("package.json"), MANIFEST).expect("write");
    std::fs::write(root.join("lib/a.js"), b"a").expect("write");
    std::fs::write(root.join(".git/config"), b"git").expect("write");
    std::fs::write(root.join("node_modules/dep/index.js"), b"dep").expect("write");
    std::fs::write(root.join("big.bin"), vec![0u8; 5000]).expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).expect("symlink");
        std::os::unix::fs::symlink("/", root.join("lib/rootdir")).expect("symlink");
        let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).expect("socket");
    }
    let limits = Limits {
        max_file_bytes: 4096,
        ..Limits::default()
    };
    let contents = read_dir(root, &limits).expect("reads");
    assert_eq!(paths(&contents), ["lib/a.js", "package.json"]);
    #[cfg(unix)]
    assert_eq!(
        kinds(&contents),
        [
            IssueKind::FileTooLarge,
            IssueKind::Symlink,
            IssueKind::Symlink,
            IssueKind::Device
        ]
    );
    let all = read_path(root, None, &Limits::default()).expect("read_path dispatches directories");
    assert_eq!(all.len(), 1);
    assert!(read_dir(&root.join("package.json"), &limits).is_err());
    assert!(read_dir(&root.join("missing"), &limits).is_err());
}

#[test]
fn encrypted_zip_fixture() {
    let bytes = std::fs::read("tests/fixtures/encrypted-package.zip").expect("fixture");
    let packages = read_zip(&bytes, "fixture.zip", Some(b"infected"), &Limits::default()).expect("decrypts");
    assert_eq!(packages.len(), 1);
    assert_eq!(packages[0].origin, "fixture.zip");
    assert_eq!(paths(&packages[0]), ["README.md", "package.json", "lib/index.js"]);
    assert_eq!(
        packages[0].file("lib/index.js").map(|f| f.data.as_slice()),
        Some(&b"module.exports = 42;\n"[..])
    );
    for password in [None, Some(&b"wrong"[..]), Some(&b"infectee"[..])] {
        let error = read_zip(&bytes, "fixture.zip", password, &Limits::default()).expect_err("needs the password");
        assert!(matches!(error, TarballError::Password { .. }), "{password:?}: {error}");
    }
    let via_path = read_path(
        Path::new("tests/fixtures/encrypted-package.zip"),
        Some(b"infected"),
        &Limits::default(),
    )
    .expect("read_path sniffs zips");
    assert_eq!(via_path[0].files.len(), 3);
}

fn build_zip(entries: &[(&str, &[u8])], symlink: Option<(&str, &str)>) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, data) in entries {
        writer.start_file(*name, options).expect("start");
        writer.write_all(data).expect("write");
    }
    if let Some((name, target)) = symlink {
        writer.add_symlink(name, target, options).expect("symlink");
    }
    writer.finish().expect("finish").into_inner()
}

#[test]
fn zip_with_several_packages_and_hostile_entries() {
    let bytes = build_zip(
        &[
            ("a/package.json", br#"{"name":"a"}"#),
            ("a/index.js", b"a"),
            ("b/package.json", br#"{"name":"b"}"#),
            ("b/../../escape.js", b"evil"),
            ("NOTES.txt", b"not in a package"),
        ],
        Some(("b/link", "/etc/shadow")),
    );
    let packages = read_zip(&bytes, "two.zip", None, &Limits::default()).expect("reads");
    assert_eq!(packages.len(), 2);
    assert_eq!(packages[0].origin, "two.zip:a");
    assert_eq!(paths(&packages[0]), ["package.json", "index.js"]);
    assert_eq!(paths(&packages[1]), ["package.json"]);
    assert_eq!(kinds(&packages[1]), [IssueKind::PathTraversal, IssueKind::Symlink]);

    let limits = Limits {
        max_entries: 2,
        ..Limits::default()
    };
    let packages = read_zip(&bytes, "two.zip", None, &limits).expect("reads");
    assert!(packages.iter().any(|p| kinds(p).contains(&IssueKind::TooManyEntries)));
}

#[test]
fn zip_bomb_entry_is_bounded() {
    let zeros = vec![0u8; 64 << 20];
    let bytes = build_zip(
        &[("package/package.json", MANIFEST), ("package/zeros.js", &zeros)],
        None,
    );
    drop(zeros);
    let limits = Limits {
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let packages = read_zip(&bytes, "bomb.zip", None, &limits).expect("reads");
    assert_eq!(paths(&packages[0]), ["package.json"]);
    assert_eq!(kinds(&packages[0]), [IssueKind::FileTooLarge]);
}

#[test]
fn read_path_dispatch_and_size_limit() {
    let temp = tempfile::tempdir().expect("tempdir");
    let tgz = temp.path().join("pkg.bin");
    std::fs::copy("tests/fixtures/is-number-7.0.0.tgz", &tgz).expect("copy");
    let packages = read_path(&tgz, None, &Limits::default()).expect("sniffed as gzip, whatever the extension");
    assert_eq!(packages[0].files.len(), 4);
    let limits = Limits {
        max_total_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        read_path(&tgz, None, &limits),
        Err(TarballError::Limit { .. })
    ));
    let text = temp.path().join("notes.txt");
    std::fs::write(&text, "hello").expect("write");
    assert!(matches!(
        read_path(&text, None, &Limits::default()),
        Err(TarballError::Malformed { .. })
    ));
}

/// The malware corpus, read in memory only (never written out). Skipped when absent.
#[test]
fn corpus_zips_read_in_memory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let Ok(sets) = std::fs::read_dir(&root) else { return };
    let mut checked = 0;
    for set in sets.flatten() {
        let Ok(manifest) = std::fs::read_to_string(set.path().join("MANIFEST.tsv")) else {
            continue;
        };
        let mut lines = manifest.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let column = |key: &str| header.iter().position(|h| *h == key);
        let (Some(name_at), Some(version_at), Some(count_at)) =
            (column("name"), column("version"), column("file_count"))
        else {
            continue;
        };
        for line in lines {
            let columns: Vec<&str> = line.split('\t').collect();
            let (Some(name), Some(version), Some(file_count)) =
                (columns.get(name_at), columns.get(version_at), columns.get(count_at))
            else {
                continue;
            };
            let zip_name = format!("{}@{version}.zip", name.replace('/', "__"));
            let Ok(bytes) = std::fs::read(set.path().join(&zip_name)) else {
                continue;
            };
            let packages =
                read_zip(&bytes, &zip_name, Some(b"infected"), &Limits::default()).expect("corpus zip reads");
            assert_eq!(packages.len(), 1, "{zip_name}");
            let package = &packages[0];
            assert_eq!(package.files.len().to_string(), *file_count, "{zip_name}");
            let manifest: serde_json::Value =
                serde_json::from_slice(package.manifest_bytes().expect("package.json")).expect("json");
            assert_eq!(manifest["name"], *name, "{zip_name}");
            checked += 1;
        }
    }
    if root.exists() {
        assert!(checked > 0, "corpus present but no sample was read");
    }
}

#[test]
fn corpus_sample_file_list() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/npm-malicious/electorn@1.0.1.zip");
    let Ok(bytes) = std::fs::read(&path) else { return };
    let packages = read_zip(&bytes, "electorn@1.0.1.zip", Some(b"infected"), &Limits::default()).expect("reads");
    let mut files: Vec<&str> = paths(&packages[0]);
    files.sort_unstable();
    assert!(files.contains(&"package.json"), "{files:?}");
    assert_eq!(files.len(), 3);
}

/// Throughput over a directory of real tarballs (the popular set):
/// `PALISADE_POPULAR_DIR=/dir/of/tgz cargo test --release -p palisade-tarball --test extract -- --ignored throughput --nocapture`
#[test]
#[ignore = "needs a directory of real tarballs"]
fn throughput() {
    let Ok(dir) = std::env::var("PALISADE_POPULAR_DIR") else {
        return;
    };
    let mut inputs = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        if entry.path().extension().is_some_and(|e| e == "tgz") {
            inputs.push((
                entry.path().display().to_string(),
                std::fs::read(entry.path()).expect("read"),
            ));
        }
    }
    let started = Instant::now();
    let (mut compressed, mut unpacked, mut files, mut issues) = (0u64, 0u64, 0usize, 0usize);
    for (origin, bytes) in &inputs {
        match read_tgz(bytes, origin, &Limits::default()) {
            Ok(contents) => {
                compressed += contents.compressed_bytes;
                unpacked += contents.unpacked_bytes;
                files += contents.files.len();
                for issue in &contents.issues {
                    println!("{origin}: {:?} {} {}", issue.kind, issue.path, issue.message);
                }
                issues += contents.issues.len();
            }
            Err(error) => println!("error: {error}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} tarballs, {files} files, {issues} issues; {:.1} MB compressed, {:.1} MB unpacked in {seconds:.2} s = {:.0} MB/s unpacked",
        inputs.len(),
        compressed as f64 / 1e6,
        unpacked as f64 / 1e6,
        unpacked as f64 / 1e6 / seconds
    );
}
