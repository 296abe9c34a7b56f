//! A content-stream tokenizer: operands and operators, one at a time, with
//! no allocation proportional to hostile lengths beyond the operands it
//! returns (nesting of arrays/dictionaries is capped).
//!
//! lopdf's own content parser gives up on a whole stream at the first
//! filtered inline image; print preflight needs every operator after it, so
//! this reads the grammar of ISO 32000-1 §7.2 / §8.9.7 directly.

/// An operand of a content-stream operator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Number(f64),
    Name(Vec<u8>),
    /// Literal or hex string (bytes not decoded: no operator we look at needs them).
    Str,
    Bool(bool),
    Null,
    Array(Vec<Operand>),
    Dict(Vec<(Vec<u8>, Operand)>),
}

impl Operand {
    pub(crate) fn num(&self) -> Option<f64> {
        match self {
            Operand::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub(crate) fn name(&self) -> Option<&[u8]> {
        match self {
            Operand::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// One token at the top level of a content stream.
#[derive(Debug, PartialEq)]
pub(crate) enum Token {
    Operand(Operand),
    /// An operator keyword (`cm`, `Do`, `BI`, …).
    Operator(Vec<u8>),
}

const MAX_NESTING: usize = 32;
const MAX_COLLECTION_ITEMS: usize = 4096;

pub(crate) struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

fn is_white(b: u8) -> bool {
    matches!(b, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delim(b)
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn skip_space(&mut self) {
        while self.pos < self.data.len() {
            let b = self.data[self.pos];
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self.pos < self.data.len() && !matches!(self.data[self.pos], b'\r' | b'\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// The next token, `None` at the end of the data.
    pub(crate) fn next_token(&mut self) -> Option<Token> {
        loop {
            self.skip_space();
            let b = *self.data.get(self.pos)?;
            match b {
                b'[' | b'<' | b'(' | b'/' | b'+' | b'-' | b'.' | b'0'..=b'9' => {
                    if b == b'<' && self.data.get(self.pos + 1) == Some(&b'<') {
                        return Some(Token::Operand(self.dict(0)));
                    }
                    match self.operand(0) {
                        Some(op) => return Some(Token::Operand(op)),
                        None => continue,
                    }
                }
                b')' | b']' | b'>' | b'{' | b'}' => {
                    // Stray delimiter: skip it, like PDF readers do.
                    self.pos += 1;
                }
                _ => {
                    let start = self.pos;
                    while self.pos < self.data.len() && is_regular(self.data[self.pos]) {
                        self.pos += 1;
                    }
                    let word = &self.data[start..self.pos];
                    return Some(match word {
                        b"true" => Token::Operand(Operand::Bool(true)),
                        b"false" => Token::Operand(Operand::Bool(false)),
                        b"null" => Token::Operand(Operand::Null),
                        _ => Token::Operator(word.to_vec()),
                    });
                }
            }
        }
    }

    /// Reads one operand starting at the current (non-space) byte. `None`
    /// when the bytes there are not an operand (they are skipped).
    fn operand(&mut self, depth: usize) -> Option<Operand> {
        self.skip_space();
        let b = *self.data.get(self.pos)?;
        match b {
            b'/' => Some(Operand::Name(self.name())),
            b'(' => {
                self.literal_string();
                Some(Operand::Str)
            }
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => Some(self.dict(depth)),
            b'<' => {
                while self.pos < self.data.len() && self.data[self.pos] != b'>' {
                    self.pos += 1;
                }
                self.pos = (self.pos + 1).min(self.data.len());
                Some(Operand::Str)
            }
            b'[' => Some(self.array(depth)),
            b'+' | b'-' | b'.' | b'0'..=b'9' => Some(self.number()),
            _ => {
                let start = self.pos;
                while self.pos < self.data.len() && is_regular(self.data[self.pos]) {
                    self.pos += 1;
                }
                if self.pos == start {
                    self.pos += 1;
                    return None;
                }
                match &self.data[start..self.pos] {
                    b"true" => Some(Operand::Bool(true)),
                    b"false" => Some(Operand::Bool(false)),
                    b"null" => Some(Operand::Null),
                    _ => None,
                }
            }
        }
    }

    fn number(&mut self) -> Operand {
        let start = self.pos;
        if matches!(self.data[self.pos], b'+' | b'-') {
            self.pos += 1;
        }
        // Readers accept "--5" and "1.2.3" as numbers; be lenient the same way.
        while self.pos < self.data.len() && matches!(self.data[self.pos], b'0'..=b'9' | b'.' | b'-')
        {
            self.pos += 1;
        }
        let text = &self.data[start..self.pos];
        Operand::Number(parse_number(text))
    }

    fn name(&mut self) -> Vec<u8> {
        self.pos += 1; // '/'
        let mut out = Vec::new();
        while self.pos < self.data.len() && is_regular(self.data[self.pos]) {
            let b = self.data[self.pos];
            if b == b'#'
                && let (Some(h), Some(l)) = (
                    self.data
                        .get(self.pos + 1)
                        .and_then(|c| (*c as char).to_digit(16)),
                    self.data
                        .get(self.pos + 2)
                        .and_then(|c| (*c as char).to_digit(16)),
                )
            {
                out.push((h * 16 + l) as u8);
                self.pos += 3;
                continue;
            }
            out.push(b);
            self.pos += 1;
        }
        out
    }

    fn literal_string(&mut self) {
        self.pos += 1; // '('
        let mut depth = 1usize;
        while self.pos < self.data.len() {
            match self.data[self.pos] {
                b'\\' => self.pos += 2,
                b'(' => {
                    depth += 1;
                    self.pos += 1;
                }
                b')' => {
                    depth -= 1;
                    self.pos += 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => self.pos += 1,
            }
        }
        self.pos = self.pos.min(self.data.len());
    }

    fn array(&mut self, depth: usize) -> Operand {
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.data.get(self.pos) {
                None => break,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                Some(_) => {
                    let before = self.pos;
                    let item = if depth >= MAX_NESTING {
                        None
                    } else {
                        self.operand(depth + 1)
                    };
                    if let Some(item) = item
                        && items.len() < MAX_COLLECTION_ITEMS
                    {
                        items.push(item);
                    }
                    if self.pos == before {
                        self.pos += 1;
                    }
                }
            }
        }
        Operand::Array(items)
    }

    fn dict(&mut self, depth: usize) -> Operand {
        self.pos += 2; // '<<'
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            match self.data.get(self.pos) {
                None => break,
                Some(b'>') => {
                    self.pos = (self.pos + 2).min(self.data.len());
                    break;
                }
                Some(b'/') => {
                    let key = self.name();
                    let before = self.pos;
                    let value = if depth >= MAX_NESTING {
                        None
                    } else {
                        self.operand(depth + 1)
                    };
                    if let Some(value) = value
                        && entries.len() < MAX_COLLECTION_ITEMS
                    {
                        entries.push((key, value));
                    }
                    if self.pos == before {
                        self.pos += 1;
                    }
                }
                Some(_) => {
                    let before = self.pos;
                    let _ = if depth >= MAX_NESTING {
                        None
                    } else {
                        self.operand(depth + 1)
                    };
                    if self.pos == before {
                        self.pos += 1;
                    }
                }
            }
        }
        Operand::Dict(entries)
    }

    /// After `BI`: reads the inline image dictionary up to and including
    /// `ID` and the single white-space byte after it. Returns the entries.
    pub(crate) fn inline_image_dict(&mut self) -> Vec<(Vec<u8>, Operand)> {
        let mut entries = Vec::new();
        loop {
            self.skip_space();
            match self.data.get(self.pos) {
                None => return entries,
                Some(b'/') => {
                    let key = self.name();
                    let before = self.pos;
                    if let Some(value) = self.operand(0)
                        && entries.len() < MAX_COLLECTION_ITEMS
                    {
                        entries.push((key, value));
                    }
                    if self.pos == before {
                        self.pos += 1;
                    }
                }
                Some(_) => {
                    let start = self.pos;
                    while self.pos < self.data.len() && is_regular(self.data[self.pos]) {
                        self.pos += 1;
                    }
                    if &self.data[start..self.pos] == b"ID" {
                        // One white-space byte separates ID from the data.
                        if self.pos < self.data.len() && is_white(self.data[self.pos]) {
                            self.pos += 1;
                        }
                        return entries;
                    }
                    if self.pos == start {
                        self.pos += 1;
                    }
                }
            }
        }
    }

    /// Skips inline image data: jumps `known_len` bytes when the length is
    /// known (unfiltered data), then finds the `EI` operator (white space or
    /// start, `EI`, then white space, a delimiter or the end). Returns the
    /// data: exactly `known_len` bytes when known (fewer if the stream
    /// ends), else everything up to the white space before `EI`.
    pub(crate) fn skip_inline_data(&mut self, known_len: Option<usize>) -> &'a [u8] {
        let start = self.pos;
        if let Some(len) = known_len {
            self.pos = self.pos.saturating_add(len).min(self.data.len());
        }
        let d = self.data;
        let known_end = known_len.map(|_| self.pos);
        let mut i = self.pos;
        while i + 1 < d.len() {
            if d[i] == b'E'
                && d[i + 1] == b'I'
                && (i == self.pos || is_white(d[i - 1]))
                && d.get(i + 2).is_none_or(|b| is_white(*b) || is_delim(*b))
            {
                self.pos = i + 2;
                let end = known_end.unwrap_or(if i > start { i - 1 } else { i });
                return &d[start..end.max(start)];
            }
            i += 1;
        }
        self.pos = d.len();
        &d[start..known_end.unwrap_or(d.len())]
    }
}

/// Parses a PDF number leniently (like PDF readers: garbage after the
/// number is ignored, an empty or unparsable number is 0).
fn parse_number(text: &[u8]) -> f64 {
    let mut neg = false;
    let mut i = 0;
    while i < text.len() && matches!(text[i], b'+' | b'-') {
        neg ^= text[i] == b'-';
        i += 1;
    }
    let mut int = 0f64;
    while i < text.len() && text[i].is_ascii_digit() {
        int = int * 10.0 + f64::from(text[i] - b'0');
        i += 1;
    }
    let mut frac = 0f64;
    if i < text.len() && text[i] == b'.' {
        i += 1;
        let mut scale = 0.1;
        while i < text.len() && text[i].is_ascii_digit() {
            frac += f64::from(text[i] - b'0') * scale;
            scale *= 0.1;
            i += 1;
        }
    }
    let v = int + frac;
    let v = if neg { -v } else { v };
    if v.is_finite() { v } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &[u8]) -> Vec<Token> {
        let mut l = Lexer::new(s);
        std::iter::from_fn(|| l.next_token()).collect()
    }

    #[test]
    fn numbers_names_operators() {
        let t = tokens(b"q 1 0 0 -1.5 .5 +3 cm /Im#201 Do Q % comment\n");
        assert_eq!(t[0], Token::Operator(b"q".to_vec()));
        assert_eq!(t[4], Token::Operand(Operand::Number(-1.5)));
        assert_eq!(t[5], Token::Operand(Operand::Number(0.5)));
        assert_eq!(t[6], Token::Operand(Operand::Number(3.0)));
        assert_eq!(t[8], Token::Operand(Operand::Name(b"Im 1".to_vec())));
        assert_eq!(t.len(), 11);
    }

    #[test]
    fn strings_arrays_dicts() {
        let t = tokens(b"[(a\\)b(c)) 5 <0a0b>] TJ /P <</MCID 3 /A [1 [2]]>> BDC");
        assert!(matches!(&t[0], Token::Operand(Operand::Array(a)) if a.len() == 3));
        assert_eq!(t[1], Token::Operator(b"TJ".to_vec()));
        assert!(matches!(&t[3], Token::Operand(Operand::Dict(d)) if d.len() == 2));
        assert_eq!(t[4], Token::Operator(b"BDC".to_vec()));
    }

    #[test]
    fn inline_image_skips_to_ei() {
        let data = b"BI /W 2 /H 1 /BPC 8 /CS /G ID EI EI\n1 0 0 1 0 0 cm";
        let mut l = Lexer::new(data);
        assert_eq!(l.next_token(), Some(Token::Operator(b"BI".to_vec())));
        let d = l.inline_image_dict();
        assert_eq!(d.len(), 4);
        // Unfiltered: the data length (2 bytes) is known, so the "EI" inside
        // the data is not mistaken for the end.
        assert_eq!(l.skip_inline_data(Some(2)), b"EI");
        let rest: Vec<Token> = std::iter::from_fn(|| l.next_token()).collect();
        assert_eq!(rest.len(), 7);
        assert_eq!(rest[6], Token::Operator(b"cm".to_vec()));
        // Filtered (length unknown): the data ends before the white space
        // in front of EI; a stream without EI gives everything.
        let mut l = Lexer::new(b"BI /F /Fl ID x\nyz\nEI Q");
        l.next_token();
        l.inline_image_dict();
        assert_eq!(l.skip_inline_data(None), b"x\nyz");
        assert_eq!(l.next_token(), Some(Token::Operator(b"Q".to_vec())));
        let mut l = Lexer::new(b"BI /W 9 ID abc");
        l.next_token();
        l.inline_image_dict();
        assert_eq!(l.skip_inline_data(Some(9)), b"abc");
        assert_eq!(l.next_token(), None);
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        let mut data = vec![b'['; 100_000];
        data.extend_from_slice(b" Q");
        let t = tokens(&data);
        assert!(t.len() <= 2);
    }
}
