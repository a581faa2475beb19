//! HTML pages: keep the article text, drop navigation, scripts and footers.

const SKIP_TAGS: &[&str] = &[
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "select", "button",
    "iframe", "svg", "head", "template", "object", "embed", "canvas", "map",
];
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "tbody",
    "thead",
    "section",
    "article",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dd",
    "dt",
    "dl",
    "blockquote",
    "pre",
    "hr",
    "center",
    "main",
    "title",
];
/// Class or id fragments of page chrome.
const CHROME: &[&str] = &[
    "nav",
    "menu",
    "footer",
    "header",
    "breadcrumb",
    "share",
    "sidebar",
    "copyright",
    "related",
    "crumb",
    "toolbar",
    "topbar",
    "banner",
    "login",
    "search",
    "friendlink",
    "links",
];
/// Deeper than this the page is not a real article; a flat tag strip is used instead.
const MAX_DEPTH: usize = 512;

/// Is this decoded text an HTML document?
pub fn looks_like_html(text: &str) -> bool {
    let head = text
        .as_bytes()
        .get(..text.len().min(16 * 1024))
        .unwrap_or_default();
    let has = |tag: &[u8]| {
        memchr::memchr_iter(b'<', head).any(|i| {
            head.get(i..i + tag.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(tag))
        })
    };
    let starts_with_tag = head.trim_ascii_start().first() == Some(&b'<');
    (starts_with_tag
        && (has(b"<html") || has(b"<body") || has(b"<div") || has(b"<p") || has(b"<!doctype")))
        || has(b"<html")
}

/// Converts an HTML page to text, one block per line; table cells are joined with " | ".
/// Returns the text and the page title.
pub fn html_to_text(html: &str) -> (String, Option<String>) {
    if nesting_depth(html) > MAX_DEPTH {
        return (strip_tags(html), None);
    }
    let Ok(dom) = tl::parse(html, tl::ParserOptions::default()) else {
        return (strip_tags(html), None);
    };
    let parser = dom.parser();
    let mut title = None;
    if let Some(t) = dom
        .query_selector("title")
        .and_then(|mut q| q.next())
        .and_then(|h| h.get(parser))
    {
        let s = decode_entities(&t.inner_text(parser)).trim().to_string();
        if !s.is_empty() {
            title = Some(s);
        }
    }
    let mut out = String::with_capacity(html.len() / 2);
    // iterative walk: (node, closing?) so deep pages cannot overflow the stack
    // inside a table cell, blocks are joined with spaces so a row stays on one line
    let mut in_cell = 0usize;
    let mut stack: Vec<(tl::NodeHandle, bool)> =
        dom.children().iter().rev().map(|h| (*h, false)).collect();
    while let Some((h, closing)) = stack.pop() {
        let Some(node) = h.get(parser) else { continue };
        match node {
            tl::Node::Raw(b) => out.push_str(&decode_entities(&b.as_utf8_str())),
            tl::Node::Comment(_) => {}
            tl::Node::Tag(tag) => {
                let name = tag.name().as_utf8_str().to_ascii_lowercase();
                let cell = name == "td" || name == "th";
                if closing {
                    if cell {
                        in_cell = in_cell.saturating_sub(1);
                        out.push_str(" | ");
                    } else if BLOCK_TAGS.contains(&name.as_str()) {
                        out.push(if in_cell > 0 { ' ' } else { '\n' });
                    }
                    continue;
                }
                if SKIP_TAGS.contains(&name.as_str()) || is_chrome(tag) {
                    continue;
                }
                if cell {
                    in_cell += 1;
                } else if BLOCK_TAGS.contains(&name.as_str()) {
                    out.push(if in_cell > 0 { ' ' } else { '\n' });
                }
                stack.push((h, true));
                let kids: Vec<tl::NodeHandle> = tag.children().top().iter().copied().collect();
                for k in kids.into_iter().rev() {
                    stack.push((k, false));
                }
            }
        }
    }
    (tidy(&out), title)
}

fn is_chrome(tag: &tl::HTMLTag) -> bool {
    let attrs = tag.attributes();
    let mut s = String::new();
    if let Some(Some(c)) = attrs.get("class") {
        s.push_str(&c.as_utf8_str().to_ascii_lowercase());
    }
    s.push(' ');
    if let Some(Some(i)) = attrs.get("id") {
        s.push_str(&i.as_utf8_str().to_ascii_lowercase());
    }
    s.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        CHROME
            .iter()
            .any(|c| w == *c || (w.starts_with(c) && w.len() <= c.len() + 3))
    })
}

fn nesting_depth(html: &str) -> usize {
    let mut depth: isize = 0;
    let mut max: isize = 0;
    for w in html.as_bytes().windows(2) {
        match (w.first(), w.get(1)) {
            (Some(b'<'), Some(b'/')) => depth -= 1,
            (Some(b'<'), Some(n)) if n.is_ascii_alphabetic() => {
                depth += 1;
                max = max.max(depth);
            }
            (Some(b'/'), Some(b'>')) => depth -= 1,
            _ => {}
        }
    }
    max.max(0) as usize
}

/// Fallback: drop every tag, keep text.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    tidy(&decode_entities(&out))
}

fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let l = line.trim().trim_end_matches(" |").trim();
        if !l.is_empty() {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Decodes the entities that occur in Chinese government pages.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        let end = tail
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(j, _)| j);
        let Some(end) = end else {
            out.push('&');
            rest = tail.get(1..).unwrap_or("");
            continue;
        };
        let ent = tail.get(1..end).unwrap_or("");
        let rep = match ent {
            "nbsp" | "ensp" | "emsp" | "thinsp" => Some(' '),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "ldquo" => Some('“'),
            "rdquo" => Some('”'),
            "middot" => Some('·'),
            "mdash" => Some('—'),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(ent.get(2..).unwrap_or(""), 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent
                .get(1..)
                .unwrap_or("")
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32),
            _ => None,
        };
        match rep {
            Some(c) => {
                out.push(c);
                rest = tail.get(end + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}
