use crate::diag::Code;

pub const MALICIOUS: Code = Code {
    code: "scan-malicious",
    check: "scan",
    description: "The static analyzer judged a new or changed package malicious (`palisade check --scan`).",
};
pub const SUSPICIOUS: Code = Code {
    code: "scan-suspicious",
    check: "scan",
    description: "The static analyzer judged a new or changed package suspicious (`palisade check --scan`).",
};
pub const UNSCANNED: Code = Code {
    code: "scan-failed",
    check: "scan",
    description: "A new or changed package could not be fetched, verified against its integrity, or read for scanning.",
};

pub const CODES: &[Code] = &[MALICIOUS, SUSPICIOUS, UNSCANNED];
