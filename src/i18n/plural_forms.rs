//! `Plural-Forms` expressions, rewritten with every operation in parentheses.
//!
//! The `gettext` crate (0.4) ignores C's precedence: it splits an expression at its first
//! `&&` before looking for `?`, so Polish's rule as `msginit` writes it,
//! `n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2`, picks the wrong form
//! for 5. It reads a fully parenthesised expression right, so catalogues get one.

/// The expression with C's precedence made explicit, or why it is not one gettext allows.
pub fn parenthesize(expr: &str) -> Result<String, String> {
    let tokens = tokenize(expr)?;
    let mut parser = Parser { tokens, at: 0 };
    let out = parser.ternary()?;
    match parser.tokens.get(parser.at) {
        None => Ok(out),
        Some(token) => Err(format!("unexpected {token:?} in {expr:?}")),
    }
}

fn tokenize(expr: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {}
            '0'..='9' => {
                let mut number = c.to_string();
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    number.push(d);
                }
                tokens.push(number);
            }
            'n' | '(' | ')' | '?' | ':' | '%' => tokens.push(c.to_string()),
            '&' | '|' | '=' => match chars.next() {
                Some(d) if d == c => tokens.push(format!("{c}{d}")),
                _ => return Err(format!("{c:?} must be doubled in {expr:?}")),
            },
            '<' | '>' | '!' => match chars.next_if_eq(&'=') {
                Some(_) => tokens.push(format!("{c}=")),
                None => tokens.push(c.to_string()),
            },
            _ => {
                return Err(format!(
                    "{c:?} is not allowed in a plural expression ({expr:?})"
                ));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<String>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn take_if(&mut self, wanted: &[&str]) -> Option<String> {
        let token = self.peek().filter(|t| wanted.contains(t))?.to_owned();
        self.at += 1;
        Some(token)
    }

    fn ternary(&mut self) -> Result<String, String> {
        let condition = self.binary(0)?;
        if self.take_if(&["?"]).is_none() {
            return Ok(condition);
        }
        let then = self.ternary()?;
        self.take_if(&[":"])
            .ok_or_else(|| "a `?` without its `:`".to_owned())?;
        let otherwise = self.ternary()?;
        Ok(format!("({condition} ? {then} : {otherwise})"))
    }

    /// Left-associative binary operators, loosest first.
    fn binary(&mut self, level: usize) -> Result<String, String> {
        const LEVELS: [&[&str]; 5] = [
            &["||"],
            &["&&"],
            &["==", "!="],
            &["<", "<=", ">", ">="],
            &["%"],
        ];
        let Some(operators) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        while let Some(operator) = self.take_if(operators) {
            let right = self.binary(level + 1)?;
            left = format!("({left} {operator} {right})");
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<String, String> {
        if self.take_if(&["!"]).is_some() {
            return Ok(format!("!({})", self.unary()?));
        }
        if self.take_if(&["("]).is_some() {
            let inner = self.ternary()?;
            self.take_if(&[")"])
                .ok_or_else(|| "a `(` without its `)`".to_owned())?;
            return Ok(inner);
        }
        match self.peek() {
            Some(token) if token == "n" || token.bytes().all(|b| b.is_ascii_digit()) => {
                let token = token.to_owned();
                self.at += 1;
                Ok(token)
            }
            Some(token) => Err(format!("unexpected {token:?}")),
            None => Err("the expression ends too early".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parenthesize;

    #[test]
    fn precedence_is_made_explicit() {
        assert_eq!(parenthesize("(n != 1)").unwrap(), "(n != 1)");
        assert_eq!(parenthesize("0").unwrap(), "0");
        assert_eq!(
            parenthesize("n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2")
                .unwrap(),
            "((n == 1) ? 0 : (((((n % 10) >= 2) && ((n % 10) <= 4)) && (((n % 100) < 10) || ((n % 100) >= 20))) ? 1 : 2))"
        );
        assert_eq!(parenthesize("!(n>1)").unwrap(), "!((n > 1))");
    }

    #[test]
    fn what_gettext_cannot_evaluate_is_refused() {
        for bad in ["n+1", "(n", "n ? 1", "n = 1", "", "n 1", "n & 1"] {
            assert!(parenthesize(bad).is_err(), "{bad:?}");
        }
    }
}
