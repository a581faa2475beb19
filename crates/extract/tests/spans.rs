//! Every item's span indexes its text exactly in `Extraction::text`, on the seeds.

#[test]
fn spans_are_exact_on_the_seeds() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../seeds");
    for entry in std::fs::read_dir(&seeds).expect("seeds dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).expect("seed");
        let x = duban_extract::extract(&bytes, &path.to_string_lossy());
        assert!(!x.items.is_empty(), "{}", path.display());
        for it in &x.items {
            let [s, e] = it.span;
            assert_eq!(
                x.text.get(s..e),
                Some(it.text.as_str()),
                "{} item {:?}",
                path.display(),
                it.no
            );
        }
        let json = serde_json::to_string(&x).expect("json");
        let back: duban_extract::Extraction = serde_json::from_str(&json).expect("round trip");
        assert_eq!(back.items, x.items);
    }
}
