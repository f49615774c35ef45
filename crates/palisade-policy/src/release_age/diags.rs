use crate::diag::Code;

pub const TOO_NEW: Code = Code {
    code: "release-too-new",
    check: "release-age",
    description: "A locked version was published more recently than `[release-age] minimum`.",
};
pub const UNCHECKED: Code = Code {
    code: "release-age-unchecked",
    check: "release-age",
    description: "A cooldown is configured but publish times were not available for some or all packages.",
};

pub const CODES: &[Code] = &[TOO_NEW, UNCHECKED];
