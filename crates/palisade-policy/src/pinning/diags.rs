use crate::diag::Code;

pub const LOCKFILE_MISSING: Code = Code {
    code: "lockfile-missing",
    check: "pinning",
    description: "The project has no lockfile, so installs are not reproducible.",
};
pub const OUT_OF_SYNC: Code = Code {
    code: "lockfile-out-of-sync",
    check: "pinning",
    description:
        "A package.json dependency is missing from the lockfile or locked at a version its spec does not allow.",
};
pub const SPEC_UNPINNED: Code = Code {
    code: "spec-unpinned",
    check: "pinning",
    description: "A package.json dependency uses `*`, `latest`, `x`, an empty spec, a dist-tag, a URL or a git branch.",
};

pub const CODES: &[Code] = &[LOCKFILE_MISSING, OUT_OF_SYNC, SPEC_UNPINNED];
