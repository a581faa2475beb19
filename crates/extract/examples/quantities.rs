//! Dev tool: prints every quantity the parser finds in a file, one per line, to eyeball the rules.
//! `cargo run -p duban-extract --example quantities -- seeds/000_*.txt`

fn main() {
    for f in std::env::args().skip(1) {
        let Ok(bytes) = std::fs::read(&f) else {
            eprintln!("{f}: unreadable");
            continue;
        };
        let text = duban_extract::decode(&bytes).text;
        for q in duban_extract::quantity::find_quantities(&text) {
            let q = q.quantity;
            println!(
                "{}\t{}\t{}\t{:?}\t{:?}\t{}",
                q.value, q.unit, q.phrase, q.comparator, q.value_max, q.metric
            );
        }
    }
}
