//! Reading one large list on every core. `kubectl get pods -o yaml` prints
//! one document, a `kind: List` whose items start at column 0 with `- `;
//! a 50,000-pod dump is 55 MB, a second of work on one core even for the
//! line reader. In such a document a line that starts at column 0 can only be an
//! item's start, a comment or a top-level key (anything inside an item is
//! indented), so the items can be cut into parts at item starts and read
//! independently. Anything unusual (directives, several documents, items
//! not at column 0, an alias to an anchor in another part) is read the
//! ordinary way instead.

/// Where the items of a list document are, and how to cut them.
pub(super) struct Split<'a> {
    /// The document without its items (the item lines left blank, so that
    /// positions stay the file's).
    pub wrapper: String,
    /// Each part's item lines, and the file line of its first item.
    pub parts: Vec<(&'a str, usize)>,
}

/// Lines at column 0 that make a text something else than one list document.
fn breaks_the_shape(line: &str) -> bool {
    line.starts_with('%') || line.starts_with("---") || line.starts_with("...")
}

fn is_continuation(line: &str) -> bool {
    line.starts_with(' ') || line.starts_with('#') || line.trim().is_empty()
}

use crate::yaml::is_item_start;

/// The cut of `text` into at most `parts` parts, if it has the shape.
pub(super) fn split(text: &str, parts: usize) -> Option<Split<'_>> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let items_key = lines.iter().position(|l| l.trim_end() == "items:")?;
    if lines[..items_key].iter().any(|l| breaks_the_shape(l) || is_item_start(l)) {
        return None;
    }
    let first = items_key + 1 + lines[items_key + 1..].iter().position(|l| !is_continuation(l))?;
    if !is_item_start(lines[first]) {
        return None;
    }
    let mut starts = vec![first];
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate().skip(first + 1) {
        if is_item_start(line) {
            starts.push(i);
        } else if !is_continuation(line) {
            end = i;
            break;
        }
    }
    if lines[end..].iter().any(|l| breaks_the_shape(l) || is_item_start(l)) || starts.len() < parts * 2 {
        return None;
    }
    let offsets: Vec<usize> = lines
        .iter()
        .scan(0, |at, l| {
            let here = *at;
            *at += l.len();
            Some(here)
        })
        .collect();
    let byte = |line: usize| offsets.get(line).copied().unwrap_or(text.len());
    let (region_start, region_end) = (byte(first), byte(end));
    let target = (region_end - region_start).div_ceil(parts);
    let mut cuts = vec![first];
    for &s in &starts {
        if byte(s) >= byte(*cuts.last().expect("one cut")) + target {
            cuts.push(s);
        }
    }
    cuts.push(end);
    let parts = cuts.windows(2).map(|w| (&text[byte(w[0])..byte(w[1])], w[0] + 1)).collect();
    let blank = "\n".repeat(end - first);
    let wrapper = format!("{}{blank}{}", &text[..region_start], &text[region_end..]);
    Some(Split { wrapper, parts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_list_document_with_items_at_column_zero_is_cut() {
        let list = |n: usize| {
            let items: String = (0..n).map(|i| format!("- kind: Pod\n  metadata:\n    name: p{i}\n")).collect();
            format!("apiVersion: v1\nitems:\n{items}kind: List\nmetadata: {{}}\n")
        };
        let ten = list(10);
        let s = split(&ten, 2).expect("a list");
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.parts[0].1, 3, "the first item is on line 3");
        assert!(s.parts[0].0.starts_with("- kind: Pod\n"));
        assert_eq!(s.wrapper.lines().count(), list(10).lines().count());
        assert!(
            s.wrapper.starts_with("apiVersion: v1\nitems:\n\n") && s.wrapper.ends_with("kind: List\nmetadata: {}\n")
        );
        for shape in [
            list(10).replace("apiVersion: v1\n", "%YAML 1.2\n---\n"),
            format!("{}---\nkind: Pod\n", list(10)),
            list(10).replace("\n- kind", "\n  - kind"),
            "apiVersion: v1\nitems: []\nkind: List\n".to_string(),
            list(3),
        ] {
            assert!(split(&shape, 2).is_none(), "{shape}");
        }
    }
}
