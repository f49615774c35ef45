//! Durations in palisade.toml: a number and a unit (`30m`, `72h`, `3d`, or
//! sums such as `1d12h`). A bare number is refused: `minimum = 72` could mean
//! minutes, hours or days, and guessing wrong silently weakens a cooldown.

use time::Duration;

pub const UNIT_HELP: &str = "a unit is mandatory: m (minutes), h (hours) or d (days), e.g. \"72h\" or \"3d\"";

pub fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("an empty duration: {UNIT_HELP}"));
    }
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let seconds_per_unit: i64 = match c {
            'm' => 60,
            'h' => 60 * 60,
            'd' => 24 * 60 * 60,
            _ => return Err(format!("`{trimmed}` is not a duration: {UNIT_HELP}")),
        };
        let amount: i64 = digits
            .parse()
            .map_err(|_| format!("`{trimmed}` is not a duration: {UNIT_HELP}"))?;
        digits.clear();
        let seconds = amount
            .checked_mul(seconds_per_unit)
            .ok_or_else(|| format!("`{trimmed}` is too long a duration"))?;
        total = total
            .checked_add(Duration::seconds(seconds))
            .ok_or_else(|| format!("`{trimmed}` is too long a duration"))?;
    }
    if !digits.is_empty() {
        return Err(format!("`{trimmed}` has no unit: {UNIT_HELP}"));
    }
    Ok(total)
}

/// `259200` seconds → `3d`, `90000` → `1d1h`: how durations are shown back.
pub fn display(duration: Duration) -> String {
    let mut seconds = duration.whole_seconds().max(0);
    let days = seconds / 86_400;
    seconds %= 86_400;
    let hours = seconds / 3_600;
    seconds %= 3_600;
    let minutes = seconds / 60;
    let mut text = String::new();
    for (amount, unit) in [(days, "d"), (hours, "h"), (minutes, "m")] {
        if amount > 0 {
            text.push_str(&format!("{amount}{unit}"));
        }
    }
    if text.is_empty() {
        text.push_str("0m");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_mandatory() {
        assert_eq!(parse("72h"), Ok(Duration::hours(72)));
        assert_eq!(parse("3d"), Ok(Duration::days(3)));
        assert_eq!(parse("1d12h"), Ok(Duration::hours(36)));
        assert_eq!(parse("30m"), Ok(Duration::minutes(30)));
        assert!(parse("72").is_err_and(|e| e.contains("no unit")));
        assert!(parse("3w").is_err());
        assert!(parse("h").is_err());
        assert_eq!(display(Duration::hours(36)), "1d12h");
    }
}
