//! CVSS v3.x base scores, for records that carry a `CVSS_V3` vector but no
//! database severity (OSV schema § severity).
//!
//! The formula and weights are those of the CVSS v3.1 specification, § 7.1
//! (base metrics) and Appendix A (`Roundup`). v3.0 vectors are scored with the
//! same formula: the two versions share weights, and v3.1 only made rounding
//! exact, which changes no v3.0 score by more than 0.1 at a band edge.
//!
//! CVSS v4.0 is not scored: its base score comes from a table of MacroVector
//! scores plus an interpolation, not a formula, and a half-right v4 score is
//! worse than none. A record with only a `CVSS_V4` vector and no database
//! severity is `Severity::Unknown` (the vector is kept for display).

/// The base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector, or `None` when the
/// vector is not a complete, valid v3 base vector.
pub fn base_score_v3(vector: &str) -> Option<f64> {
    let mut parts = vector.split('/');
    let version = parts.next()?;
    if version != "CVSS:3.1" && version != "CVSS:3.0" {
        return None;
    }
    let (mut av, mut ac, mut pr, mut ui, mut scope, mut c, mut i, mut a) =
        (None, None, None, None, None, None, None, None);
    for part in parts {
        let (metric, value) = part.split_once(':')?;
        let slot = match metric {
            "AV" => &mut av,
            "AC" => &mut ac,
            "PR" => &mut pr,
            "UI" => &mut ui,
            "S" => &mut scope,
            "C" => &mut c,
            "I" => &mut i,
            "A" => &mut a,
            // Temporal and environmental metrics do not change the base score.
            _ => continue,
        };
        if slot.is_some() {
            return None; // a metric given twice is not a valid vector (§ 6)
        }
        *slot = Some(value);
    }
    let scope_changed = match scope? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let attack_vector = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let attack_complexity = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let privileges_required = match (pr?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let user_interaction = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |value: Option<&str>| match value? {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let (confidentiality, integrity, availability) = (cia(c)?, cia(i)?, cia(a)?);

    let impact_sub_score = 1.0 - (1.0 - confidentiality) * (1.0 - integrity) * (1.0 - availability);
    let impact = if scope_changed {
        7.52 * (impact_sub_score - 0.029) - 3.25 * (impact_sub_score - 0.02_f64).powi(15)
    } else {
        6.42 * impact_sub_score
    };
    let exploitability = 8.22 * attack_vector * attack_complexity * privileges_required * user_interaction;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let score = if scope_changed {
        roundup((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup((impact + exploitability).min(10.0))
    };
    Some(score)
}

/// CVSS v3.1 Appendix A: the smallest number with one decimal that is at least
/// `input`, computed on integers so that floating-point noise (e.g.
/// 4.000000000000001) does not round up to 4.1.
fn roundup(input: f64) -> f64 {
    let int_input = (input * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Scores as published by NVD / the FIRST calculator for these vectors.
        let table = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
            ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:L", 7.3),
        ];
        for (vector, expected) in table {
            assert_eq!(base_score_v3(vector), Some(expected), "{vector}");
        }
    }

    #[test]
    fn roundup_avoids_float_noise() {
        assert_eq!(roundup(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup(4.02), 4.1);
        assert_eq!(roundup(9.8), 9.8);
    }

    #[test]
    fn invalid_vectors_have_no_score() {
        for vector in [
            "",
            "CVSS:3.1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        ] {
            assert_eq!(base_score_v3(vector), None, "{vector}");
        }
    }
}
