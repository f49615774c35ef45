use crate::diag::Code;

pub const NOT_ALLOWED: Code = Code {
    code: "source-not-allowed",
    check: "sources",
    description: "A registry package was resolved from a URL outside `[registry] allowed`.",
};
pub const GIT: Code = Code {
    code: "source-git",
    check: "sources",
    description: "A package comes from a git repository and is not in `[registry] allow-git`.",
};
pub const TARBALL: Code = Code {
    code: "source-tarball",
    check: "sources",
    description: "A package comes from a tarball URL outside any registry and is not in `[registry] allow-tarball`.",
};
pub const INTEGRITY_MISSING: Code = Code {
    code: "integrity-missing",
    check: "sources",
    description: "A registry package has no integrity hash in the lockfile, so its contents are not pinned.",
};

pub const CODES: &[Code] = &[NOT_ALLOWED, GIT, TARBALL, INTEGRITY_MISSING];
