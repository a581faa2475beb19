//! HTML pages: keep the article text, drop navigation, scripts and footers.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
    states::RawKind,
};

use super::dom::{self, Handle, Kind};

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
/// Deeper than this (open elements, void ones not counted) a page is read flat. Browsers stop
/// nesting at about this depth too.
const MAX_DEPTH: usize = 512;

/// Elements whose content the tokenizer must read as raw text or RCDATA, as the tree builder
/// would tell it.
fn raw_kind(name: &str) -> Option<RawKind> {
    match name {
        "script" => Some(RawKind::ScriptData),
        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => Some(RawKind::Rawtext),
        "title" | "textarea" => Some(RawKind::Rcdata),
        _ => None,
    }
}

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// A page read from its tokens alone: text in document order, with the same block, cell and
/// skipping rules as the tree walk, and the depth the tree would reach.
#[derive(Default)]
struct FlatText {
    out: RefCell<String>,
    title: RefCell<Option<String>>,
    in_title: Cell<bool>,
    in_cell: Cell<bool>,
    /// The element being passed over and how many of its kind are open inside it.
    skipping: RefCell<Option<(String, usize)>>,
    depth: Cell<usize>,
    max_depth: Cell<usize>,
}

impl FlatText {
    fn read(html: &str) -> Self {
        let tokenizer = Tokenizer::new(Self::default(), TokenizerOpts::default());
        let input = BufferQueue::default();
        input.push_back(StrTendril::from(html));
        // A sink that never asks to run a script gets no pause: the one feed reads it all.
        let _ = tokenizer.feed(&input);
        tokenizer.end();
        tokenizer.sink
    }

    fn close_cell(&self) {
        if self.in_cell.replace(false) {
            self.out.borrow_mut().push_str(" | ");
        }
    }

    fn tag(&self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        let void = tag.self_closing || VOID.contains(&name);
        if start && !void {
            let depth = self.depth.get() + 1;
            self.depth.set(depth);
            self.max_depth.set(self.max_depth.get().max(depth));
        } else if !start {
            self.depth.set(self.depth.get().saturating_sub(1));
        }
        let raw = if start { raw_kind(name) } else { None };
        // the title is read wherever it is (it sits in the head, which is passed over)
        if name == "title" {
            self.in_title.set(start && self.title.borrow().is_none());
            return raw.map_or(TokenSinkResult::Continue, TokenSinkResult::RawData);
        }
        {
            let mut skipping = self.skipping.borrow_mut();
            if let Some((skipped, open)) = skipping.as_mut() {
                if skipped == name {
                    if start && !void {
                        *open += 1;
                    } else if !start {
                        *open -= 1;
                    }
                }
                if *open == 0 {
                    *skipping = None;
                }
                return raw.map_or(TokenSinkResult::Continue, TokenSinkResult::RawData);
            }
            let chrome = start
                && tag.attrs.iter().any(|a| {
                    let key: &str = &a.name.local;
                    (key == "class" || key == "id") && chrome_words(&a.value)
                });
            if start && !void && (SKIP_TAGS.contains(&name) || chrome) {
                *skipping = Some((name.to_string(), 1));
                return raw.map_or(TokenSinkResult::Continue, TokenSinkResult::RawData);
            }
        }
        if name == "td" || name == "th" {
            self.close_cell();
            self.in_cell.set(start);
        } else if name == "tr" || name == "table" {
            self.close_cell();
            self.out.borrow_mut().push('\n');
        } else if BLOCK_TAGS.contains(&name) {
            let gap = if self.in_cell.get() { ' ' } else { '\n' };
            self.out.borrow_mut().push(gap);
        }
        raw.map_or(TokenSinkResult::Continue, TokenSinkResult::RawData)
    }

    fn finish(self) -> (String, Option<String>) {
        let title = self
            .title
            .into_inner()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        (tidy(&self.out.into_inner()), title)
    }
}

impl TokenSink for FlatText {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => return self.tag(&tag),
            Token::CharacterTokens(text) => {
                if self.in_title.get() {
                    self.title
                        .borrow_mut()
                        .get_or_insert_with(String::new)
                        .push_str(&spaces(&text));
                } else if self.skipping.borrow().is_none() {
                    let text = spaces(&text);
                    let mut out = self.out.borrow_mut();
                    if self.in_cell.get() {
                        out.push_str(&text.replace('\n', " "));
                    } else {
                        out.push_str(&text);
                    }
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

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
/// Returns the text and the page title. The page is parsed as browsers parse it (html5ever:
/// implied end tags, void and raw-text elements, every named entity), and walked without
/// recursion, so no page is too deep to read.
pub fn html_to_text(html: &str) -> (String, Option<String>) {
    // Building the tree costs each start tag a walk down the open elements, so a page nested
    // thousands deep (no real article is) would take minutes: such a page is read from its
    // tokens instead, as flat text, by the same tokenizer.
    let flat = FlatText::read(html);
    if flat.max_depth.get() > MAX_DEPTH {
        return flat.finish();
    }
    let page = dom::parse(html);
    let mut out = String::with_capacity(html.len() / 2);
    // inside a table cell, blocks are joined with spaces so a row stays on one line
    let mut in_cell = 0usize;
    enum Step {
        Open(Handle),
        Close(Handle),
    }
    let mut steps = vec![Step::Open(page.clone())];
    while let Some(step) = steps.pop() {
        match step {
            Step::Open(node) => {
                match &node.kind {
                    // a cell's line breaks are layout: its row stays on one line
                    Kind::Text(text) if in_cell > 0 => {
                        out.push_str(&spaces(&text.borrow()).replace('\n', " "))
                    }
                    Kind::Text(text) => out.push_str(&spaces(&text.borrow())),
                    Kind::Element { name, .. } => {
                        let name: &str = &name.local;
                        // scripts, navigation, page chrome: passed over with all they hold
                        if SKIP_TAGS.contains(&name) || is_chrome(&node) {
                            continue;
                        } else if name == "td" || name == "th" {
                            in_cell += 1;
                        } else if BLOCK_TAGS.contains(&name) {
                            out.push(if in_cell > 0 { ' ' } else { '\n' });
                        }
                    }
                    Kind::Document | Kind::Other => {}
                }
                steps.push(Step::Close(node.clone()));
                steps.extend(node.children.borrow().iter().rev().cloned().map(Step::Open));
            }
            Step::Close(node) => {
                let Some(name) = node.element_name() else {
                    continue;
                };
                if name == "td" || name == "th" {
                    in_cell = in_cell.saturating_sub(1);
                    out.push_str(" | ");
                } else if BLOCK_TAGS.contains(&name) {
                    out.push(if in_cell > 0 { ' ' } else { '\n' });
                }
            }
        }
    }
    (tidy(&out), title(&page))
}

/// The text of the page's first `<title>`, wherever it is (it sits in the head, which the
/// text walk passes over).
fn title(page: &Handle) -> Option<String> {
    let mut stack = vec![page.clone()];
    while let Some(node) = stack.pop() {
        if node.element_name() == Some("title") {
            let text: String = node
                .children
                .borrow()
                .iter()
                .filter_map(|child| match &child.kind {
                    Kind::Text(t) => Some(spaces(&t.borrow())),
                    _ => None,
                })
                .collect();
            return Some(text.trim().to_string()).filter(|t| !t.is_empty());
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    None
}

/// Text with the spacing entities (&nbsp; &ensp; &emsp; &thinsp;) as plain spaces, as the
/// rules expect.
fn spaces(text: &str) -> String {
    text.replace(['\u{a0}', '\u{2002}', '\u{2003}', '\u{2009}'], " ")
}

fn is_chrome(element: &Handle) -> bool {
    chrome_words(&element.attr("class").unwrap_or_default())
        || chrome_words(&element.attr("id").unwrap_or_default())
}

/// Whether a class or id names page chrome.
fn chrome_words(value: &str) -> bool {
    let words = value.to_ascii_lowercase();
    words.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        CHROME
            .iter()
            .any(|c| w == *c || (w.starts_with(c) && w.len() <= c.len() + 3))
    })
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
