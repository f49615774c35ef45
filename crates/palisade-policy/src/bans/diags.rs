use crate::diag::Code;

pub const DENIED: Code = Code {
    code: "package-denied",
    check: "bans",
    description: "A locked package matches a `[packages] deny` entry.",
};
pub const NOT_ALLOWED: Code = Code {
    code: "package-not-allowed",
    check: "bans",
    description: "In `mode = \"allowlist\"`, a locked package matches no `[packages] allow` entry.",
};

pub const CODES: &[Code] = &[DENIED, NOT_ALLOWED];
