//! The HTML alternative of a mail, rendered from its plain text, so the catalogues stay the
//! only source of wording. maud escapes every value: a name like `<b>` stays text.

use maud::{DOCTYPE, Markup, html};

/// Renders `text` as HTML: paragraphs at blank lines, a paragraph that is a single
/// `https://`/`http://` URL becomes a link, an indented paragraph (username, password) is
/// shown as code so it can be copied exactly.
pub fn render(text: &str, lang: Option<&str>, title: &str) -> String {
    let page: Markup = html! {
        (DOCTYPE)
        html lang=[lang] {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
            }
            body {
                @for paragraph in paragraphs(text) {
                    (render_paragraph(paragraph))
                }
            }
        }
    };
    page.into_string()
}

fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n")
        .map(|p| p.trim_end())
        .filter(|p| !p.trim().is_empty())
}

fn render_paragraph(paragraph: &str) -> Markup {
    let trimmed = paragraph.trim();
    let single_token = !trimmed.contains(char::is_whitespace);
    if single_token && (trimmed.starts_with("https://") || trimmed.starts_with("http://")) {
        return html! { p { a href=(trimmed) { (trimmed) } } };
    }
    if paragraph.starts_with("    ") {
        return html! { p { code { (trimmed) } } };
    }
    let mut lines = paragraph.lines();
    html! {
        p {
            @if let Some(first) = lines.next() { (first) }
            @for line in lines { br; (line) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markup_in_the_text_stays_text() {
        let html = render(
            "Hello <script>alert(1)</script> & \"x\",\n\nbye",
            Some("en"),
            "<t>",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;,"));
        assert!(html.contains("<title>&lt;t&gt;</title>"));
    }

    #[test]
    fn links_and_indented_values_are_marked_up() {
        let html = render(
            "Hi,\n\nhttps://x.example/verify/a.b-c\n\n    user@x.example\n\nline one\nline two\n",
            Some("de"),
            "S",
        );
        assert!(html.contains(r#"<html lang="de">"#));
        assert!(html.contains(
            r#"<p><a href="https://x.example/verify/a.b-c">https://x.example/verify/a.b-c</a></p>"#
        ));
        assert!(html.contains("<p><code>user@x.example</code></p>"));
        assert!(html.contains("<p>line one<br>line two</p>"));
    }

    #[test]
    fn only_web_links_become_links() {
        let html = render("javascript:alert(1)\n\nhttps://a b", None, "S");
        assert!(!html.contains("<a "), "{html}");
    }
}
