//! The tree html5ever builds a page into: nodes with their children, an element's name and
//! attributes, and text; what reading a page's text needs and nothing more (no selectors, so no
//! CSS engine comes with it).

use std::{
    borrow::Cow,
    cell::RefCell,
    rc::{Rc, Weak},
    sync::LazyLock,
};

use html5ever::{
    Attribute, QualName,
    tendril::{StrTendril, TendrilSink},
    tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink},
};

pub type Handle = Rc<Node>;

pub enum Kind {
    Document,
    Element {
        name: QualName,
        attrs: RefCell<Vec<Attribute>>,
        /// A template's contents live apart from the tree, as the specification has it.
        template: Option<Handle>,
    },
    Text(RefCell<String>),
    /// Comments, processing instructions: kept out of the text.
    Other,
}

pub struct Node {
    pub kind: Kind,
    parent: RefCell<Weak<Node>>,
    pub children: RefCell<Vec<Handle>>,
}

impl Node {
    fn new(kind: Kind) -> Handle {
        Rc::new(Node {
            kind,
            parent: RefCell::new(Weak::new()),
            children: RefCell::new(Vec::new()),
        })
    }

    /// The element's local name ("div"), None for other nodes.
    pub fn element_name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Element { name, .. } => Some(&name.local),
            _ => None,
        }
    }

    /// The value of the element's attribute `name`, if it has one.
    pub fn attr(&self, name: &str) -> Option<String> {
        match &self.kind {
            Kind::Element { attrs, .. } => attrs
                .borrow()
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string()),
            _ => None,
        }
    }
}

impl Drop for Node {
    /// Drops a deep tree without recursing down it.
    fn drop(&mut self) {
        let mut stack: Vec<Handle> = std::mem::take(self.children.get_mut());
        while let Some(node) = stack.pop() {
            if let Ok(mut node) = Rc::try_unwrap(node) {
                stack.append(node.children.get_mut());
            }
        }
    }
}

/// Parses `html` as browsers do and answers the document node.
pub fn parse(html: &str) -> Handle {
    html5ever::parse_document(Sink::default(), Default::default()).one(StrTendril::from(html))
}

struct Sink {
    document: Handle,
}

impl Default for Sink {
    fn default() -> Self {
        Sink {
            document: Node::new(Kind::Document),
        }
    }
}

/// The name answered for a node that is not an element; the tree builder asks only elements.
static NO_NAME: LazyLock<QualName> =
    LazyLock::new(|| QualName::new(None, html5ever::ns!(html), html5ever::local_name!("")));

fn detach(node: &Handle) {
    let parent = node.parent.replace(Weak::new()).upgrade();
    if let Some(parent) = parent {
        parent
            .children
            .borrow_mut()
            .retain(|child| !Rc::ptr_eq(child, node));
    }
}

fn insert(parent: &Handle, at: usize, child: NodeOrText<Handle>) {
    let mut children = parent.children.borrow_mut();
    match child {
        NodeOrText::AppendText(text) => {
            // text next to text is one text node
            if let Some(Kind::Text(previous)) = at
                .checked_sub(1)
                .and_then(|i| children.get(i))
                .map(|n| &n.kind)
            {
                previous.borrow_mut().push_str(&text);
                return;
            }
            let node = Node::new(Kind::Text(RefCell::new(text.to_string())));
            *node.parent.borrow_mut() = Rc::downgrade(parent);
            children.insert(at, node);
        }
        NodeOrText::AppendNode(node) => {
            drop(children);
            detach(&node);
            *node.parent.borrow_mut() = Rc::downgrade(parent);
            let mut children = parent.children.borrow_mut();
            let at = at.min(children.len());
            children.insert(at, node);
        }
    }
}

impl TreeSink for Sink {
    type Handle = Handle;
    type Output = Handle;
    type ElemName<'a> = &'a QualName;

    fn finish(self) -> Handle {
        self.document
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.document.clone()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> &'a QualName {
        match &target.kind {
            Kind::Element { name, .. } => name,
            _ => &NO_NAME,
        }
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        Node::new(Kind::Element {
            name,
            attrs: RefCell::new(attrs),
            template: flags.template.then(|| Node::new(Kind::Document)),
        })
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        Node::new(Kind::Other)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        Node::new(Kind::Other)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        let end = parent.children.borrow().len();
        insert(parent, end, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        if element.parent.borrow().upgrade().is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(
        &self,
        _name: StrTendril,
        _public: StrTendril,
        _system: StrTendril,
    ) {
    }

    fn get_template_contents(&self, target: &Handle) -> Handle {
        match &target.kind {
            Kind::Element {
                template: Some(contents),
                ..
            } => contents.clone(),
            // only templates are asked; anything else gets a fragment of its own
            _ => Node::new(Kind::Document),
        }
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        Rc::ptr_eq(x, y)
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        let Some(parent) = sibling.parent.borrow().upgrade() else {
            return;
        };
        let at = parent
            .children
            .borrow()
            .iter()
            .position(|child| Rc::ptr_eq(child, sibling));
        if let Some(at) = at {
            insert(&parent, at, new_node);
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        if let Kind::Element { attrs: have, .. } = &target.kind {
            let mut have = have.borrow_mut();
            for attr in attrs {
                if !have.iter().any(|a| a.name == attr.name) {
                    have.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        detach(target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let moved = std::mem::take(&mut *node.children.borrow_mut());
        for child in &moved {
            *child.parent.borrow_mut() = Rc::downgrade(new_parent);
        }
        new_parent.children.borrow_mut().extend(moved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(node: &Handle) -> String {
        let mut out = String::new();
        let mut stack = vec![node.clone()];
        while let Some(n) = stack.pop() {
            if let Kind::Text(t) = &n.kind {
                out.push_str(&t.borrow());
            }
            stack.extend(n.children.borrow().iter().rev().cloned());
        }
        out
    }

    #[test]
    fn builds_the_tree_browsers_build() {
        // implied end tags, a misnested formatting element (the adoption agency moves nodes)
        // and text foster-parented out of a table
        let page = parse("<p>一<b>二<p>三</b>四<table>五<tr><td>六</table>");
        assert_eq!(text_of(&page), "一二三四五六");
        let page = parse("<div class=\"nav\" id=x>菜单</div>");
        let mut stack = vec![page];
        let mut found = None;
        while let Some(n) = stack.pop() {
            if n.element_name() == Some("div") {
                found = Some((n.attr("class"), n.attr("id")));
            }
            stack.extend(n.children.borrow().iter().cloned());
        }
        assert_eq!(
            found,
            Some((Some("nav".to_string()), Some("x".to_string())))
        );
    }

    #[test]
    fn a_deep_tree_drops_without_recursing() {
        let page = parse(&"<span>".repeat(2_000));
        drop(page);
    }
}
