//! Canonical XML 1.0 (inclusive, without comments), for the documents an
//! XMLDSig verifier here meets: a whole document minus its enveloped
//! `<Signature>` (the `Reference URI=""` node-set), and one element's
//! subtree (`<SignedInfo>`).
//!
//! Written here rather than taken from a crate (see the crate root for why),
//! so it is tested differentially against `xmlsec1` (libxml2's C14N) over
//! generated documents: `tests/xmlsec1_oracle.rs` signs each one with
//! `xmlsec1 --sign` and requires this code to verify it. What it covers is
//! what those documents exercise: elements, attributes (sorted by namespace
//! URI, then local name), namespace declarations (inherited ones rendered at
//! a subset's apex, redundant ones dropped), `xml:*` attributes inherited by
//! a subset's apex, text and attribute escaping, CDATA, character and the
//! five predefined entity references, processing instructions, comments
//! (dropped), line-end normalisation. A DTD is refused: entity definitions
//! and default attributes would change the canonical form.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use std::fmt;

/// Bounds that keep a hostile document from costing more than a real one.
pub const MAX_INPUT: usize = 4 * 1024 * 1024;
const MAX_DEPTH: usize = 256;

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C14nError(pub String);

impl fmt::Display for C14nError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for C14nError {}

fn err<T>(msg: impl Into<String>) -> Result<T, C14nError> {
    Err(C14nError(msg.into()))
}

#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    Text(String),
    Pi { target: String, content: String },
}

#[derive(Debug, Clone, Default)]
pub struct Element {
    /// The qualified name as written (`ds:Signature`).
    pub name: String,
    /// Attributes other than namespace declarations, values normalised.
    pub attrs: Vec<(String, String)>,
    /// Namespace declarations on this element: (prefix, URI); "" = default.
    pub ns_decls: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn local_name(&self) -> &str {
        self.name.rsplit_once(':').map_or(&self.name, |(_, l)| l)
    }

    fn prefix(&self) -> &str {
        self.name.split_once(':').map_or("", |(p, _)| p)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child_elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The first child element with this local name.
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.child_elements().find(|e| e.local_name() == local)
    }

    /// Character content of this element's text children (not descendants).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|n| match n {
                Node::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A parsed document: what lies outside the root (processing instructions
/// only; comments and whitespace there do not survive canonicalisation), and
/// the root element.
#[derive(Debug, Clone)]
pub struct Document {
    pub before: Vec<Node>,
    pub root: Element,
    pub after: Vec<Node>,
}

/// XML 1.0 §2.11: CRLF and lone CR become LF before anything else.
fn normalize_eol(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

fn resolve_ref(name: &str) -> Result<char, C14nError> {
    if let Some(c) = predefined(name) {
        return Ok(c);
    }
    let num = if let Some(h) = name.strip_prefix("#x") {
        u32::from_str_radix(h, 16).ok()
    } else if let Some(d) = name.strip_prefix('#') {
        d.parse().ok()
    } else {
        return err(format!(
            "unknown entity reference `&{name};` (no DTD is read)"
        ));
    };
    match num.and_then(char::from_u32) {
        Some(c) if c != '\0' => Ok(c),
        _ => err(format!("bad character reference `&{name};`")),
    }
}

/// Attribute-value normalisation (XML 1.0 §3.3.3, CDATA type): literal
/// whitespace becomes a space, references are replaced (a referenced
/// whitespace character stays itself).
fn attr_value(raw: &str) -> Result<String, C14nError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\t', '\n', '\r', '<']) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or(' ');
        match c {
            '&' => {
                let Some(end) = rest[i..].find(';') else {
                    return err("unterminated reference in an attribute value");
                };
                out.push(resolve_ref(&rest[i + 1..i + end])?);
                rest = &rest[i + end + 1..];
            }
            '<' => return err("`<` in an attribute value"),
            _ => {
                out.push(' ');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Parse a document. The input must be text already decoded from its
/// encoding (the callers read UTF-8, as OCS sends it).
pub fn parse(input: &str) -> Result<Document, C14nError> {
    if input.len() > MAX_INPUT {
        return err(format!(
            "the document is {} bytes, more than the {MAX_INPUT} this verifier reads",
            input.len()
        ));
    }
    let text = normalize_eol(input.trim_start_matches('\u{feff}'));
    let mut reader = Reader::from_str(&text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let ev = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                return err(format!(
                    "not well-formed XML at byte {}: {e}",
                    reader.error_position()
                ));
            }
        };
        match ev {
            Event::Start(s) => {
                if root.is_some() {
                    return err("content after the document element");
                }
                if stack.len() >= MAX_DEPTH {
                    return err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                let mut el = Element {
                    name: s.name().as_ref().to_owned(),
                    ..Element::default()
                };
                for a in s.attributes() {
                    let a = match a {
                        Ok(a) => a,
                        Err(e) => return err(format!("bad attribute in <{}>: {e}", el.name)),
                    };
                    let key = a.key.as_ref().to_owned();
                    let value = attr_value(&a.value)?;
                    if key == "xmlns" {
                        el.ns_decls.push((String::new(), value));
                    } else if let Some(p) = key.strip_prefix("xmlns:") {
                        el.ns_decls.push((p.to_owned(), value));
                    } else {
                        el.attrs.push((key, value));
                    }
                }
                stack.push(el);
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return err("an end tag without its start");
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Empty(_) => return err("unexpected empty-element event"),
            Event::Text(t) => push_text(&mut stack, &t, root.is_some())?,
            Event::CData(t) => push_text(&mut stack, &t, root.is_some())?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => resolve_ref(&r)?,
                    Err(e) => return err(format!("bad character reference: {e}")),
                };
                let mut buf = [0u8; 4];
                push_text(&mut stack, c.encode_utf8(&mut buf), root.is_some())?;
            }
            Event::Comment(_) | Event::Decl(_) => {}
            Event::PI(p) => {
                let node = Node::Pi {
                    target: p.target().to_owned(),
                    content: p.content().trim_start().to_owned(),
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_some() => after.push(node),
                    None => before.push(node),
                }
            }
            Event::DocType(_) => {
                return err(
                    "the document has a DTD (<!DOCTYPE>), which this verifier does not read",
                );
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return err("the document ends inside an element");
    }
    let Some(root) = root else {
        return err("no document element");
    };
    Ok(Document {
        before,
        root,
        after,
    })
}

fn push_text(stack: &mut [Element], t: &str, after_root: bool) -> Result<(), C14nError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(prev)) = parent.children.last_mut() {
                prev.push_str(t);
            } else {
                parent.children.push(Node::Text(t.to_owned()));
            }
            Ok(())
        }
        None if t.trim_matches([' ', '\t', '\n']).is_empty() => Ok(()),
        None if after_root => err("text after the document element"),
        None => err("text before the document element"),
    }
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
}

fn write_pi(target: &str, content: &str, out: &mut String) {
    out.push_str("<?");
    out.push_str(target);
    if !content.is_empty() {
        out.push(' ');
        out.push_str(content);
    }
    out.push_str("?>");
}

/// In-scope namespaces, innermost last.
type Scope = Vec<(String, String)>;

fn lookup<'a>(scope: &'a Scope, prefix: &str) -> Option<&'a str> {
    if prefix == "xml" {
        return Some(XML_NS);
    }
    scope
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, u)| u.as_str())
}

/// The in-scope namespace map as (prefix → URI), one entry per prefix, the
/// default namespace's "" entry dropped (an empty default is no namespace).
fn visible(scope: &Scope) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (p, u) in scope.iter().rev() {
        if !out.iter().any(|(q, _)| q == p) {
            out.push((p.clone(), u.clone()));
        }
    }
    out.retain(|(p, u)| !(p.is_empty() && u.is_empty()));
    out.sort();
    out
}

struct Writer<'a> {
    out: String,
    /// Skip this element (the enveloped signature), compared by address.
    skip: Option<&'a Element>,
}

impl<'a> Writer<'a> {
    /// `scope`: namespaces in scope in the input at `el`'s parent.
    /// `rendered`: namespaces in scope in the output at `el`'s parent.
    /// `inherited_xml`: `xml:*` attributes to add (the apex of a subset).
    fn element(
        &mut self,
        el: &'a Element,
        scope: &mut Scope,
        rendered: &[(String, String)],
        inherited_xml: &[(String, String)],
    ) -> Result<(), C14nError> {
        if self.skip.is_some_and(|s| std::ptr::eq(s, el)) {
            return Ok(());
        }
        let depth = scope.len();
        scope.extend(el.ns_decls.iter().cloned());
        let here = visible(scope);
        // A namespace node is rendered unless the output parent already has
        // the same binding; an empty default is rendered only to undo one.
        let mut ns_out: Vec<(String, String)> = here
            .iter()
            .filter(|(p, u)| rendered.iter().find(|(q, _)| q == p).map(|(_, v)| v) != Some(u))
            .cloned()
            .collect();
        let parent_default = rendered.iter().any(|(p, u)| p.is_empty() && !u.is_empty());
        if parent_default && !here.iter().any(|(p, _)| p.is_empty()) {
            ns_out.insert(0, (String::new(), String::new()));
        }
        let prefix = el.prefix();
        if !prefix.is_empty() && lookup(scope, prefix).is_none() {
            return err(format!(
                "the prefix `{prefix}` of <{}> is not declared",
                el.name
            ));
        }
        let mut attrs: Vec<(String, &str, &str, &str)> = Vec::new();
        for (name, value) in el
            .attrs
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(
                inherited_xml
                    .iter()
                    .filter(|(n, _)| !el.attrs.iter().any(|(m, _)| m == n))
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            )
        {
            let (uri, local) = match name.split_once(':') {
                Some((p, l)) => match lookup(scope, p) {
                    Some(u) => (u.to_owned(), l),
                    None => {
                        return err(format!(
                            "the prefix `{p}` of attribute `{name}` is not declared"
                        ));
                    }
                },
                None => (String::new(), name),
            };
            attrs.push((uri, local, name, value));
        }
        attrs.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
        self.out.push('<');
        self.out.push_str(&el.name);
        for (p, u) in &ns_out {
            self.out
                .push_str(if p.is_empty() { " xmlns" } else { " xmlns:" });
            self.out.push_str(p);
            self.out.push_str("=\"");
            escape_attr(u, &mut self.out);
            self.out.push('"');
        }
        for (_, _, name, value) in &attrs {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            escape_attr(value, &mut self.out);
            self.out.push('"');
        }
        self.out.push('>');
        let mut child_rendered: Vec<(String, String)> = rendered
            .iter()
            .filter(|(p, _)| !ns_out.iter().any(|(q, _)| q == p))
            .cloned()
            .collect();
        child_rendered.extend(ns_out.iter().cloned());
        for child in &el.children {
            match child {
                Node::Element(c) => self.element(c, scope, &child_rendered, &[])?,
                Node::Text(t) => escape_text(t, &mut self.out),
                Node::Pi { target, content } => write_pi(target, content, &mut self.out),
            }
        }
        self.out.push_str("</");
        self.out.push_str(&el.name);
        self.out.push('>');
        scope.truncate(depth);
        Ok(())
    }
}

/// The whole document, without comments, with `skip` (the enveloped
/// `<Signature>`) and its subtree left out.
pub fn canonicalize_document(doc: &Document, skip: Option<&Element>) -> Result<Vec<u8>, C14nError> {
    let mut w = Writer {
        out: String::new(),
        skip,
    };
    for n in &doc.before {
        if let Node::Pi { target, content } = n {
            write_pi(target, content, &mut w.out);
            w.out.push('\n');
        }
    }
    w.element(&doc.root, &mut Vec::new(), &[], &[])?;
    for n in &doc.after {
        if let Node::Pi { target, content } = n {
            w.out.push('\n');
            write_pi(target, content, &mut w.out);
        }
    }
    Ok(w.out.into_bytes())
}

/// One element's subtree (the node-set of an element and its descendants),
/// as when `<SignedInfo>` is canonicalised. `ancestors` is the path from
/// the root down to `el`'s parent: their namespace declarations are in
/// scope, and their `xml:*` attributes are inherited by `el`.
pub fn canonicalize_subtree(el: &Element, ancestors: &[&Element]) -> Result<Vec<u8>, C14nError> {
    let mut scope: Scope = Vec::new();
    let mut xml_attrs: Vec<(String, String)> = Vec::new();
    for a in ancestors {
        scope.extend(a.ns_decls.iter().cloned());
        for (n, v) in &a.attrs {
            if n.starts_with("xml:") {
                xml_attrs.retain(|(m, _)| m != n);
                xml_attrs.push((n.clone(), v.clone()));
            }
        }
    }
    let mut w = Writer {
        out: String::new(),
        skip: None,
    };
    w.element(el, &mut scope, &[], &xml_attrs)?;
    Ok(w.out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(s: &str) -> String {
        let d = parse(s).unwrap();
        String::from_utf8(canonicalize_document(&d, None).unwrap()).unwrap()
    }

    #[test]
    fn spec_examples_attributes_and_empty_elements() {
        // Canonical XML 1.0 §3.3 (start and end tags), reduced to what a DTD-less parser sees.
        let doc = "<!-- c --><doc>\r\n   <e1   />\r\n   <e2   ></e2>\r\n   <e3   name = \"elem3\"   id=\"elem3\"   />\r\n   <e5 a:attr=\"out\" b:attr=\"sorted\" attr2=\"all\" attr=\"I'm\"\r\n      xmlns:b=\"http://www.ietf.org\"\r\n      xmlns:a=\"http://www.w3.org\"\r\n      xmlns=\"http://example.org\"/>\r\n</doc>";
        assert_eq!(
            c14n(doc),
            "<doc>\n   <e1></e1>\n   <e2></e2>\n   <e3 id=\"elem3\" name=\"elem3\"></e3>\n   <e5 xmlns=\"http://example.org\" xmlns:a=\"http://www.w3.org\" xmlns:b=\"http://www.ietf.org\" attr=\"I'm\" attr2=\"all\" b:attr=\"sorted\" a:attr=\"out\"></e5>\n</doc>"
        );
    }

    #[test]
    fn escaping_references_and_redundant_namespaces() {
        let doc = "<?xml version=\"1.0\"?>\n<?pi  some data ?>\n<r xmlns=\"u\" a=\"&#9;&#10;x&amp;&quot;'\tz\"><s xmlns=\"u\">&lt;&amp;&gt;&#13;<![CDATA[<c>]]></s><t xmlns=\"\"/></r>\n<?end?>";
        assert_eq!(
            c14n(doc),
            "<?pi some data ?>\n<r xmlns=\"u\" a=\"&#x9;&#xA;x&amp;&quot;' z\"><s>&lt;&amp;&gt;&#xD;&lt;c&gt;</s><t xmlns=\"\"></t></r>\n<?end?>"
        );
    }

    #[test]
    fn subtree_gets_inherited_namespaces_and_xml_attributes() {
        let d = parse("<a xmlns=\"A\" xmlns:p=\"P\" xml:lang=\"en\"><b><c/></b></a>").unwrap();
        let b = d.root.child("b").unwrap();
        let out = canonicalize_subtree(b, &[&d.root]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<b xmlns=\"A\" xmlns:p=\"P\" xml:lang=\"en\"><c></c></b>"
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
            "<a>&nope;</a>",
            "<a b=\"&#0;\"/>",
            "<p:a/>",
            "<a/><b/>",
            "text<a/>",
        ] {
            assert!(
                parse(bad)
                    .and_then(|d| canonicalize_document(&d, None))
                    .is_err(),
                "{bad}"
            );
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().0.contains("deeper"));
    }
}
