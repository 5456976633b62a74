//! One folded line: `frame;frame;... count`, or in the differential form `stack before after`.
//! The count is the last whitespace-separated token; the stack is everything before it.
//! Comment lines (`#`, austin writes them) and blank lines carry no samples. Positions are
//! byte offsets into the line, so no copy is made.

use super::count::{parse_count, Count};

/// What one line holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    Blank,
    /// The stack is `line[start..end]`; `before` only in the differential form.
    Stack { start: usize, end: usize, count: Count, before: Option<Count> },
    Invalid(String),
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x0b | 0x0c | b'\r')
}

/// The last token of `line[start..end]`: where it starts, and where the text before it ends
/// once the spaces between are left out.
fn last_token(line: &[u8], start: usize, end: usize) -> (usize, usize) {
    let mut token_start = end;
    while token_start > start && !is_space(line[token_start - 1]) {
        token_start -= 1;
    }
    let mut rest_end = token_start;
    while rest_end > start && is_space(line[rest_end - 1]) {
        rest_end -= 1;
    }
    (token_start, rest_end)
}

/// Parses one line (without its `\n`). `differential`: the input has two count columns.
pub fn parse_line(line: &[u8], differential: bool) -> Line {
    let mut start = 0;
    let mut end = line.len();
    while end > start && is_space(line[end - 1]) {
        end -= 1;
    }
    while start < end && is_space(line[start]) {
        start += 1;
    }
    if start == end || line[start] == b'#' {
        return Line::Blank;
    }
    let (token_start, rest_end) = last_token(line, start, end);
    if rest_end == start {
        return Line::Invalid("expected \"stack count\", found no count after a space".into());
    }
    let Some(count) = parse_count(&line[token_start..end]) else {
        return Line::Invalid(format!("the count \"{}\" is not a non-negative number", String::from_utf8_lossy(&line[token_start..end])));
    };
    if !differential {
        return Line::Stack { start, end: rest_end, count, before: None };
    }
    let (first_start, stack_end) = last_token(line, start, rest_end);
    let before = if stack_end == start { None } else { parse_count(&line[first_start..rest_end]) };
    match before {
        Some(before) => Line::Stack { start, end: stack_end, count, before: Some(before) },
        None => Line::Invalid("expected \"stack before after\" (differential input), found one count".into()),
    }
}

/// JavaScript's `\s` (the TS reader's regular expressions use it).
pub fn is_js_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}' | '\u{feff}')
}

/// Where a number `\d+(\.\d*)?` ending at `end` starts, if one does.
fn number_start(chars: &[char], end: usize) -> Option<usize> {
    let mut i = end;
    while i > 0 && chars[i - 1].is_ascii_digit() {
        i -= 1;
    }
    if i > 0 && chars[i - 1] == '.' {
        let point = i - 1;
        let mut j = point;
        while j > 0 && chars[j - 1].is_ascii_digit() {
            j -= 1;
        }
        return (j < point).then_some(j);
    }
    (i < end).then_some(i)
}

/// True when a stack line ends in two counts (`/\s\d+(?:\.\d*)?\s+\d+(?:\.\d*)?\s*$/`): the
/// differential form that `difffolded.pl` writes.
pub fn looks_differential(line: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    let mut end = chars.len();
    while end > 0 && is_js_space(chars[end - 1]) {
        end -= 1;
    }
    let Some(second) = number_start(&chars, end) else { return false };
    let mut gap = second;
    while gap > 0 && is_js_space(chars[gap - 1]) {
        gap -= 1;
    }
    if gap == second {
        return false;
    }
    let Some(first) = number_start(&chars, gap) else { return false };
    first > 0 && is_js_space(chars[first - 1])
}
