//! Exact folded counts. Counts are usually small integers, summed as `u64` while the total stays
//! at or below 2^53 - 1 (so every value is also exact as a JS number). A fractional count, or a
//! total beyond that, switches a column to arbitrary-precision integers scaled by 10^scale, so
//! `0.1 + 0.2` is `0.3` and `2^53 + 1` stays odd, whatever the number of digits.

/// Largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE: u64 = (1 << 53) - 1;

/// A parsed count token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Count {
    /// An integer no larger than [`MAX_SAFE`].
    Small(u64),
    /// `scaled / 10^digits` exactly (trailing zeros of the fraction removed).
    Exact { digits: u32, scaled: Big },
}

/// Parses a count token: `12`, `0.5`, `3.` (ASCII digits, at most one point, no sign or
/// exponent), or returns None.
pub fn parse_count(token: &[u8]) -> Option<Count> {
    if token.is_empty() {
        return None;
    }
    if token.len() <= 15 && token.iter().all(u8::is_ascii_digit) {
        return Some(Count::Small(token.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'))));
    }
    let (whole, fraction) = match token.iter().position(|&c| c == b'.') {
        Some(point) => (&token[..point], &token[point + 1..]),
        None => (token, &token[..0]),
    };
    if whole.is_empty() || !whole.iter().all(u8::is_ascii_digit) || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut kept = fraction.len();
    while kept > 0 && fraction[kept - 1] == b'0' {
        kept -= 1;
    }
    let fraction = &fraction[..kept];
    let mut scaled = Big::from_decimal(whole);
    scaled.append_decimal(fraction);
    if fraction.is_empty() {
        if let Some(small) = scaled.to_u64() {
            if small <= MAX_SAFE {
                return Some(Count::Small(small));
            }
        }
    }
    Some(Count::Exact { digits: fraction.len() as u32, scaled })
}

/// An arbitrary-precision unsigned integer: little-endian base-2^64 limbs, no trailing zero
/// limb (zero is empty, so a zero costs no allocation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Big(Vec<u64>);

impl Big {
    pub fn from_u64(value: u64) -> Big {
        if value == 0 {
            Big(Vec::new())
        } else {
            Big(vec![value])
        }
    }

    pub fn from_decimal(digits: &[u8]) -> Big {
        let mut big = Big::default();
        big.append_decimal(digits);
        big
    }

    /// self = self * 10^len(digits) + digits (ASCII digits), 19 digits at a time.
    pub fn append_decimal(&mut self, digits: &[u8]) {
        for chunk in digits.chunks(19) {
            let value = chunk.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
            self.mul_small(10u64.pow(chunk.len() as u32));
            self.add_small(value);
        }
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    pub fn to_u64(&self) -> Option<u64> {
        match self.0.len() {
            0 => Some(0),
            1 => Some(self.0[0]),
            _ => None,
        }
    }

    pub fn mul_small(&mut self, factor: u64) {
        if factor == 0 {
            self.0.clear();
            return;
        }
        let mut carry = 0u128;
        for limb in &mut self.0 {
            let product = u128::from(*limb) * u128::from(factor) + carry;
            *limb = product as u64;
            carry = product >> 64;
        }
        if carry != 0 {
            self.0.push(carry as u64);
        }
    }

    pub fn mul_pow10(&mut self, mut exponent: u32) {
        while exponent > 0 {
            let step = exponent.min(19);
            self.mul_small(10u64.pow(step));
            exponent -= step;
        }
    }

    pub fn add_small(&mut self, value: u64) {
        let mut carry = value;
        for limb in &mut self.0 {
            if carry == 0 {
                return;
            }
            let (sum, overflow) = limb.overflowing_add(carry);
            *limb = sum;
            carry = u64::from(overflow);
        }
        if carry != 0 {
            self.0.push(carry);
        }
    }

    pub fn add(&mut self, other: &Big) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        let mut carry = 0u64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let add = other.0.get(i).copied().unwrap_or(0);
            if add == 0 && carry == 0 && i >= other.0.len() {
                break;
            }
            let (sum, o1) = limb.overflowing_add(add);
            let (sum, o2) = sum.overflowing_add(carry);
            *limb = sum;
            carry = u64::from(o1 || o2);
        }
        if carry != 0 {
            self.0.push(carry);
        }
    }

    /// Divides in place by a small divisor, returning the remainder.
    fn div_small(&mut self, divisor: u64) -> u64 {
        let mut remainder = 0u128;
        for limb in self.0.iter_mut().rev() {
            let current = (remainder << 64) | u128::from(*limb);
            *limb = (current / u128::from(divisor)) as u64;
            remainder = current % u128::from(divisor);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        remainder as u64
    }

    /// The integer in decimal.
    pub fn to_decimal(&self) -> String {
        if let Some(small) = self.to_u64() {
            return small.to_string();
        }
        let mut rest = self.clone();
        let mut parts = Vec::new();
        while !rest.is_zero() {
            parts.push(rest.div_small(10_000_000_000_000_000_000));
        }
        let mut text = parts.pop().unwrap_or(0).to_string();
        for part in parts.iter().rev() {
            text.push_str(&format!("{part:019}"));
        }
        text
    }

    /// The nearest double (correctly rounded, as JS `Number(bigint)`).
    pub fn to_f64(&self) -> f64 {
        match self.0.len() {
            0 => 0.0,
            1 => self.0[0] as f64,
            2 => (u128::from(self.0[1]) << 64 | u128::from(self.0[0])) as f64,
            _ => self.to_decimal().parse().unwrap_or(f64::INFINITY),
        }
    }
}

/// `scaled / 10^scale` as a decimal: `25, 1` → `2.5`, trailing fraction zeros removed.
pub fn scaled_to_decimal(value: &Big, scale: u32) -> String {
    let digits = value.to_decimal();
    if scale == 0 {
        return digits;
    }
    let scale = scale as usize;
    let padded = if digits.len() < scale + 1 { format!("{}{digits}", "0".repeat(scale + 1 - digits.len())) } else { digits };
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// Per-node counts of one column (samples, or "before" in a differential graph): each node's
/// own count while merging (only the node where a line ends gets it), the node totals after
/// [`Column::into_totals`]. Grows on demand, so a column no line writes to costs nothing.
#[derive(Default)]
pub struct Column {
    small: Vec<u64>,
    total_small: u64,
    /// Exact mode: values in units of 10^-scale.
    exact: Option<(u32, Vec<Big>)>,
}

impl Column {
    pub fn add(&mut self, node: u32, count: &Count) {
        let node = node as usize;
        if self.exact.is_none() {
            if let Count::Small(value) = *count {
                if value == 0 {
                    return;
                }
                if self.total_small + value <= MAX_SAFE {
                    self.total_small += value;
                    if node >= self.small.len() {
                        self.small.resize(node + 1, 0);
                    }
                    self.small[node] += value;
                    return;
                }
            }
            let values = std::mem::take(&mut self.small).into_iter().map(Big::from_u64).collect();
            self.exact = Some((0, values));
        }
        let (scale, values) = self.exact.as_mut().expect("exact mode");
        let (digits, mut value) = match count {
            Count::Small(value) => (0, Big::from_u64(*value)),
            Count::Exact { digits, scaled } => (*digits, scaled.clone()),
        };
        if digits > *scale {
            for v in values.iter_mut() {
                v.mul_pow10(digits - *scale);
            }
            *scale = digits;
        }
        value.mul_pow10(*scale - digits);
        if node >= values.len() {
            values.resize(node + 1, Big::default());
        }
        values[node].add(&value);
    }

    /// Turns own counts into totals (a node plus everything under it), for `nodes` nodes.
    /// `parent(n) < n` for every node but the root (0).
    pub fn into_totals(self, nodes: usize, parent: impl Fn(usize) -> usize) -> Totals {
        match self.exact {
            None => {
                let mut values = self.small;
                values.resize(nodes, 0);
                for node in (1..values.len()).rev() {
                    let value = values[node];
                    values[parent(node)] += value;
                }
                Totals::Small(values)
            }
            Some((scale, mut values)) => {
                values.resize(nodes, Big::default());
                for node in (1..values.len()).rev() {
                    let value = std::mem::take(&mut values[node]);
                    values[parent(node)].add(&value);
                    values[node] = value;
                }
                Totals::Exact { scale, values }
            }
        }
    }
}

/// Node totals of one column, in drawing units (samples × 10^scale).
pub enum Totals {
    Small(Vec<u64>),
    Exact { scale: u32, values: Vec<Big> },
}

impl Totals {
    pub fn units(&self, node: usize) -> f64 {
        match self {
            Totals::Small(values) => values[node] as f64,
            Totals::Exact { values, .. } => values[node].to_f64(),
        }
    }

    pub fn is_zero(&self, node: usize) -> bool {
        match self {
            Totals::Small(values) => values[node] == 0,
            Totals::Exact { values, .. } => values[node].is_zero(),
        }
    }

    pub fn scale(&self) -> u32 {
        match self {
            Totals::Small(_) => 0,
            Totals::Exact { scale, .. } => *scale,
        }
    }

    /// The node's total in drawing units, exactly, as a decimal integer.
    pub fn units_text(&self, node: usize) -> String {
        match self {
            Totals::Small(values) => values[node].to_string(),
            Totals::Exact { values, .. } => values[node].to_decimal(),
        }
    }

    /// The exact sum of some nodes' totals, in samples, as a decimal (`2.5`).
    pub fn sum_decimal(&self, nodes: &[u32]) -> String {
        let mut sum = self.zero();
        for &node in nodes {
            self.add_to(&mut sum, node as usize);
        }
        self.decimal(&sum)
    }

    /// A sum of node totals, exact: starts at zero.
    pub fn zero(&self) -> Sum {
        match self {
            Totals::Small(_) => Sum::Small(0),
            Totals::Exact { .. } => Sum::Exact(Big::default()),
        }
    }

    /// `sum += total of node`.
    pub fn add_to(&self, sum: &mut Sum, node: usize) {
        match (self, sum) {
            (Totals::Small(values), Sum::Small(sum)) => *sum += values[node],
            (Totals::Exact { values, .. }, Sum::Exact(sum)) => sum.add(&values[node]),
            _ => unreachable!("a sum is made by the totals it adds"),
        }
    }

    /// A sum in samples, as a decimal (`2.5`).
    pub fn decimal(&self, sum: &Sum) -> String {
        match (self, sum) {
            (Totals::Exact { scale, .. }, Sum::Exact(sum)) => scaled_to_decimal(sum, *scale),
            (_, sum) => sum.units_text(),
        }
    }
}

/// An exact sum of totals in drawing units (offsets of frames, samples left out).
#[derive(Clone)]
pub enum Sum {
    Small(u64),
    Exact(Big),
}

impl Sum {
    pub fn to_f64(&self) -> f64 {
        match self {
            Sum::Small(value) => *value as f64,
            Sum::Exact(value) => value.to_f64(),
        }
    }

    pub fn units_text(&self) -> String {
        match self {
            Sum::Small(value) => value.to_string(),
            Sum::Exact(value) => value.to_decimal(),
        }
    }
}
