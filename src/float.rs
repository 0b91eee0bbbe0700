//! Numbers echoed back in messages: short, and read back as the same number.

/// `x` as the shortest text that reads back as the same `f64`: `{}`'s digits (`0.1`, `3`,
/// `-2.5`) for everyday magnitudes, the exponent form (`1e300`, `2.5e-7`) for magnitudes of
/// 10¹⁶ and more or under 10⁻⁵, where `{}` would write every digit (301 of them for `1e300`).
///
/// ```
/// use qlab::float::short;
/// assert_eq!(short(0.5), "0.5");
/// assert_eq!(short(3.0), "3");
/// assert_eq!(short(1e300), "1e300");
/// assert_eq!(short(-2.5e-7), "-2.5e-7");
/// assert_eq!(short(f64::NAN), "NaN");
/// ```
pub fn short(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || !a.is_finite() || (1e-5..1e16).contains(&a) {
        x.to_string()
    } else {
        format!("{x:e}")
    }
}

/// `text` with every number that `{}` wrote out in full — a run of more than 24 digits
/// (with its point and sign) that reads as a finite `f64` — in the exponent form: what a
/// message echoing `1e300` from a library's `{}` shows instead of 301 digits. Shorter
/// numbers, integers up to `u64::MAX` among them, are left as they are.
///
/// ```
/// use qlab::float::shorten_long_numbers;
/// let long = format!("got {}", 1e300);
/// assert_eq!(shorten_long_numbers(&long), "got 1e300");
/// assert_eq!(shorten_long_numbers("got 18446744073709551615"), "got 18446744073709551615");
/// ```
pub fn shorten_long_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        // A sign directly before the digits belongs to the number.
        let start = if rest[..start].ends_with('-') {
            start - 1
        } else {
            start
        };
        let len = rest[start + 1..]
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(rest.len() - start, |n| n + 1);
        let token = &rest[start..start + len];
        out.push_str(&rest[..start]);
        match token.trim_end_matches('.').parse::<f64>() {
            Ok(x) if token.len() > 24 && x.is_finite() => out.push_str(&format!("{x:e}")),
            _ => out.push_str(token),
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_301_digit_echo_of_1e300_is_written_1e300() {
        let msg = format!("invalid type: floating point `{}.0`, expected u64", 1e300);
        assert_eq!(
            shorten_long_numbers(&msg),
            "invalid type: floating point `1e300`, expected u64"
        );
        let msg = format!("got {} and {}", -1e300, 1e-300);
        assert_eq!(shorten_long_numbers(&msg), "got -1e300 and 1e-300");
        for kept in ["seed_3/agent.bin:12", "1.5 or -2", "v1.2.3", "-", "x-1"] {
            assert_eq!(shorten_long_numbers(kept), kept);
        }
    }
}
