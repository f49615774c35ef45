use crate::diag::Code;

pub const NOT_ALLOWED: Code = Code {
    code: "install-script-not-allowed",
    check: "install-scripts",
    description: "A package runs lifecycle scripts on install (preinstall, install, postinstall) and is not in `[install-scripts] allow`.",
};

pub const CODES: &[Code] = &[NOT_ALLOWED];
