//! The unit registry's data file, free of I/O: the bodies a deployment knows by name, with the
//! short forms documents use, and for generic bodies the members they stand for.

/// The registry shipped for the seed documents (a Wuchang district deployment).
pub const SEED_REGISTRY: &str = include_str!("../data/units.tsv");

pub const KINDS: &[&str] = &[
    "government_department",
    "street_office",
    "party_organ",
    "peoples_organisation",
    "state_enterprise",
    "management_committee",
    "police",
    "generic",
    "other",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub canonical: String,
    pub level: String,
    pub kind: String,
    pub aliases: Vec<String>,
    /// kind@level of the members a generic body stands for.
    pub expands: String,
}

/// Parses the tab-separated registry; a bad line is an error naming the line.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let col = |i: usize| cols.get(i).map_or("", |c| c.trim());
        let canonical = col(0);
        let kind = col(2);
        if canonical.is_empty() {
            return Err(format!("line {}: the canonical name is empty", n + 1));
        }
        if !KINDS.contains(&kind) {
            return Err(format!(
                "line {}: unknown kind {kind:?}; kinds are {}",
                n + 1,
                KINDS.join(", ")
            ));
        }
        let expands = col(4);
        if (kind == "generic") == expands.is_empty() {
            return Err(format!(
                "line {}: generic bodies, and only they, say what they expand to",
                n + 1
            ));
        }
        entries.push(Entry {
            canonical: canonical.to_string(),
            level: col(1).to_string(),
            kind: kind.to_string(),
            aliases: col(3)
                .split('、')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect(),
            expands: expands.to_string(),
        });
    }
    Ok(entries)
}

/// Spellings that denote the same body as `key` (already normalised): documents drop 人民 from
/// 人民政府 and 区 from 区分局 at will.
pub fn variants(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (long, short) in [("人民政府", "政府"), ("区分局", "分局")] {
        if key.contains(long) {
            out.push(key.replace(long, short));
        } else if key.contains(short) {
            out.push(key.replacen(short, long, 1));
        }
    }
    out.retain(|v| v != key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_registry_parses() {
        let entries = parse(SEED_REGISTRY).unwrap();
        assert!(entries.len() > 50);
        let ndrc = entries
            .iter()
            .find(|e| e.aliases.contains(&"区发改局".to_string()))
            .unwrap();
        assert_eq!(ndrc.canonical, "武昌区发展和改革局");
        assert!(
            entries
                .iter()
                .any(|e| e.kind == "generic" && e.expands == "street_office@街道")
        );
    }

    #[test]
    fn bad_lines_are_named() {
        assert!(
            parse("甲\t区\tspaceship\t\t")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(
            parse("# c\n\t区\tother\t\t")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(parse("各单位\t区\tgeneric\t\t").is_err());
    }

    #[test]
    fn spelling_variants() {
        assert!(variants("市生态环境局武昌分局").contains(&"市生态环境局武昌区分局".to_string()));
        assert!(variants("区人民政府各部门").contains(&"区政府各部门".to_string()));
        assert!(variants("区发改局").is_empty());
    }
}
