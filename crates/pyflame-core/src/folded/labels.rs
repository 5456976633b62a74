//! Frame labels that name a process or thread rather than code. They differ from run to run,
//! so `diff` sets them aside at the root. Same rule as the TS `isRunLabel`:
//! `/^(?:(?:process|thread|pid|tid)[ :]\s*\(?\d+\)?(?:\D.*)?|[PT]\d+)$/i`.

use super::line::is_js_space;

/// `process 1234`, `process 1234:"python app.py"`, `thread 5678 (name)`,
/// `thread (5678): MainThread`, `pid:1234`, `tid:5678`, austin's `P1234` / `T5678`.
pub fn is_run_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    if bytes.len() >= 2 && matches!(bytes[0], b'P' | b'p' | b'T' | b't') && bytes[1..].iter().all(u8::is_ascii_digit) {
        return true;
    }
    let lower_prefix = |word: &str| bytes.len() > word.len() && bytes[..word.len()].eq_ignore_ascii_case(word.as_bytes());
    let Some(word) = ["process", "thread", "pid", "tid"].into_iter().find(|w| lower_prefix(w)) else { return false };
    let rest = &label[word.len()..];
    let mut chars = rest.chars().peekable();
    if !matches!(chars.next(), Some(' ' | ':')) {
        return false;
    }
    while chars.peek().is_some_and(|&c| is_js_space(c)) {
        chars.next();
    }
    if chars.peek() == Some(&'(') {
        chars.next();
    }
    let mut digits = 0;
    while chars.peek().is_some_and(char::is_ascii_digit) {
        chars.next();
        digits += 1;
    }
    if digits == 0 {
        return false;
    }
    if chars.peek() == Some(&')') {
        chars.next();
    }
    // `(?:\D.*)?$`: nothing, or a non-digit then no line terminator (`.` excludes them).
    match chars.next() {
        None => true,
        Some(c) if c.is_ascii_digit() => false,
        Some(_) => chars.all(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')),
    }
}
