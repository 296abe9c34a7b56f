//! Sanitisation of free text that comes from outside.
//!
//! Every user-visible string is normalised to Unicode NFC, stripped of
//! control characters (except `\n` and `\t` in multi-line fields) and
//! bounded in length. Text is stored as text: it is never trusted as HTML,
//! and renderers must escape it.

use unicode_normalization::UnicodeNormalization;

use crate::Error;

/// Normalise `raw` for storage and check it is 1..=`max_chars` characters
/// (after trimming). `multiline` keeps newlines and tabs.
pub fn clean(field: &str, raw: &str, max_chars: usize, multiline: bool) -> Result<String, Error> {
    let cleaned = clean_lossy(raw, multiline);
    let n = cleaned.chars().count();
    if n == 0 {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if n > max_chars {
        return Err(Error::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    Ok(cleaned)
}

/// Like [`clean`] but the empty string is allowed.
pub fn clean_optional(
    field: &str,
    raw: &str,
    max_chars: usize,
    multiline: bool,
) -> Result<String, Error> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    clean(field, raw, max_chars, multiline)
}

fn clean_lossy(raw: &str, multiline: bool) -> String {
    let kept: String = raw
        .nfc()
        .filter(|c| !c.is_control() || (multiline && (*c == '\n' || *c == '\t')))
        // Bidirectional overrides can disguise text (Trojan Source).
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    kept.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_to_nfc_and_strips_controls() {
        // "e" + combining acute → "é" (one code point).
        let s =
            clean("name", "Caf\u{0065}\u{0301}\u{0000}\u{001b}[31m", 50, false).unwrap_or_default();
        assert_eq!(s, "Café[31m");
    }

    #[test]
    fn multiline_keeps_newlines_only_when_asked() {
        assert_eq!(clean("d", "a\nb", 10, true).ok().as_deref(), Some("a\nb"));
        assert_eq!(clean("d", "a\nb", 10, false).ok().as_deref(), Some("ab"));
    }

    #[test]
    fn enforces_limits() {
        assert!(clean("name", "   ", 10, false).is_err());
        assert!(clean("name", "abcdef", 5, false).is_err());
        assert!(clean("name", "\u{202E}abc", 3, false).is_ok());
        assert!(clean_optional("name", "", 3, false).is_ok());
    }
}
