use crate::diag::Code;

pub const MALICIOUS: Code = Code {
    code: "advisory-malicious",
    check: "advisories",
    description: "A locked package version is known to be malicious (always fails; cannot be ignored by severity).",
};
pub const VULNERABLE: Code = Code {
    code: "advisory-vulnerable",
    check: "advisories",
    description: "A locked package version has a known vulnerability (fails at or above `fail-on`).",
};
pub const IGNORED: Code = Code {
    code: "advisory-ignored",
    check: "advisories",
    description: "An advisory matched but is ignored by an `[advisories] ignore` entry that has not expired.",
};
pub const IGNORE_EXPIRED: Code = Code {
    code: "advisory-ignore-expired",
    check: "advisories",
    description: "An `[advisories] ignore` entry is past its `until` date.",
};
pub const IGNORE_UNUSED: Code = Code {
    code: "advisory-ignore-unused",
    check: "advisories",
    description: "An `[advisories] ignore` entry matches no advisory of any locked package.",
};

pub const CODES: &[Code] = &[MALICIOUS, VULNERABLE, IGNORED, IGNORE_EXPIRED, IGNORE_UNUSED];
