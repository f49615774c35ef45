//! The packument filter on a 1,000-version packument: parse once (on fetch),
//! then per request: policy for every version, dist-tags, and rendering.

use std::collections::HashMap;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use palisade_proxy::packument::{Form, Packument};
use palisade_proxy::policy::{self, Context};

/// A synthetic packument shaped like a real one: 1,000 versions with
/// dependencies, scripts, repository and a dist block (~1.3 kB each).
fn packument(versions: usize) -> Vec<u8> {
    let mut doc_versions = serde_json::Map::new();
    let mut times = serde_json::Map::new();
    for i in 0..versions {
        let version = format!("{}.{}.{}", i / 100, (i / 10) % 10, i % 10);
        doc_versions.insert(
            version.clone(),
            serde_json::json!({
                "name": "big", "version": version, "description": "A package with many versions",
                "main": "index.js", "license": "MIT",
                "repository": {"type": "git", "url": "git+https://github.com/example/big.git"},
                "scripts": {"test": "node test.js", "build": "tsc -p ."},
                "dependencies": {"a": "^1.0.0", "b": "~2.3.4", "c": "3.x", "d": ">=1 <2"},
                "devDependencies": {"typescript": "^5.0.0", "mocha": "^10.0.0"},
                "engines": {"node": ">=18"},
                "author": {"name": "Someone", "email": "someone@example.com"},
                "maintainers": [{"name": "someone", "email": "someone@example.com"}],
                "dist": {
                    "tarball": format!("https://registry.npmjs.org/big/-/big-{version}.tgz"),
                    "shasum": "0026e37f5454d73e356dfe6564699867c6a7f0ff",
                    "integrity": "sha512-rSklcAIlf1OmFdyAqbnWTLVelsQ58uvZ66S/ZyawjWqIviTWCjg2PzVGw8WUA+nNuPTqb4wgA+NszrJ+08LlgQ==",
                    "fileCount": 12, "unpackedSize": 34567
                },
                "_npmVersion": "10.2.0", "_nodeVersion": "20.10.0"
            }),
        );
        times.insert(version, "2024-02-27T16:27:13.411000+00:00".into());
    }
    serde_json::to_vec(&serde_json::json!({
        "_id": "big", "name": "big", "dist-tags": {"latest": "9.9.9"},
        "versions": doc_versions, "time": times, "readme": "# big\n".repeat(100),
    }))
    .unwrap_or_default()
}

fn filter(c: &mut Criterion) {
    let body = Bytes::from(packument(1000));
    let Ok(doc) = Packument::parse(body.clone()) else {
        return;
    };
    let config = palisade_policy::Config::parse(
        "palisade.toml",
        "[release-age]\nminimum = \"72h\"\n[packages]\ndeny = [\"big@9.9.x\"]\n",
    )
    .unwrap_or_default();
    let advisories = HashMap::new();
    let decisions = HashMap::new();
    let verdicts = HashMap::new();
    let context = Context {
        advisories: Some(&advisories),
        decisions: Some(&decisions),
        verdicts: Some(&verdicts),
    };
    let now = time::OffsetDateTime::now_utc();
    let mut group = c.benchmark_group(format!(
        "packument {} versions, {} bytes",
        doc.versions.len(),
        body.len()
    ));
    group.bench_function("parse once (on fetch)", |b| {
        b.iter(|| Packument::parse(body.clone()).map(|d| d.versions.len()))
    });
    for form in [Form::Abbreviated, Form::Full] {
        group.bench_function(format!("filter + render {form:?}"), |b| {
            b.iter(|| {
                let keep: Vec<bool> = doc
                    .versions
                    .iter()
                    .map(|entry| {
                        policy::version_refusal(&config, config.serve.refuse_vulnerable, "big", entry, &context, now)
                            .is_none()
                    })
                    .collect();
                let (tags, _) = policy::filtered_dist_tags(&doc.dist_tags, &doc.versions, &keep);
                doc.render(form, &keep, &tags, "http://127.0.0.1:4873").len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, filter);
criterion_main!(benches);
