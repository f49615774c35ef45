use crate::diag::Code;

pub const NOT_ALLOWED: Code = Code {
    code: "install-script-not-allowed",
    check: "install-scripts",
    description: "A package runs lifecycle scripts on install (preinstall, install, postinstall) and is not in `[install-scripts] allow`.",
};

pub const UNCHECKED: Code = Code {
    code: "install-scripts-unchecked",
    check: "install-scripts",
    description: "The lockfile does not record install scripts (pnpm 9, yarn, bun, npm v1) and neither the registry nor an installed node_modules could tell for some packages.",
};

pub const CODES: &[Code] = &[NOT_ALLOWED, UNCHECKED];
