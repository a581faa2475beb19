//! `duban config reference`: the configuration reference of docs/operations.md, made from the
//! command-line definitions of every binary, so a flag or a variable cannot be renamed in one
//! place only (a test compares the two).

use std::collections::BTreeMap;

use clap::CommandFactory;
use duban_kit::app::ServiceCli;

/// Read by the code directly, not through a command line: they appear in no `--help`.
const OUTSIDE_CLAP: &[(&str, &str, &str, &str)] = &[
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "unset",
        "every service",
        "when set and not empty, traces are exported over OTLP/gRPC there (e.g. \
         `http://otel-collector:4317`); the other `OTEL_EXPORTER_OTLP_*` variables of the \
         OpenTelemetry SDK apply too",
    ),
    (
        "DUBAN_PG_USER",
        "`nobody`",
        "`duban up`, `duban db`",
        "user the private Postgres runs as when started by root",
    ),
    (
        "PGUSER",
        "`postgres`",
        "`duban up`, `duban db`",
        "user tried on a Postgres at 127.0.0.1:5432",
    ),
];

/// One flag of one program that a variable also sets.
struct Use {
    program: String,
    flag: String,
    default: String,
    help: String,
}

/// Every program: `duban` with its subcommands, and the four service binaries.
fn programs() -> Vec<clap::Command> {
    vec![
        crate::Cli::command(),
        ServiceCli::<duban_ingest::Config>::command_for(duban_ingest::NAME, duban_ingest::ABOUT),
        ServiceCli::<duban_targets::Config>::command_for(duban_targets::NAME, duban_targets::ABOUT),
        ServiceCli::<duban_assignments::Config>::command_for(
            duban_assignments::NAME,
            duban_assignments::ABOUT,
        ),
        ServiceCli::<duban_reporting::Config>::command_for(
            duban_reporting::NAME,
            duban_reporting::ABOUT,
        ),
    ]
}

fn collect(command: &clap::Command, path: &str, uses: &mut BTreeMap<String, Vec<Use>>) {
    for arg in command.get_arguments() {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let default: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(ToString::to_string)
            .unwrap_or_default();
        let program = path.to_string();
        let entry = uses.entry(env.to_string_lossy().into_owned()).or_default();
        // a global flag is listed once, under the command that declares it
        if !entry
            .iter()
            .any(|u| u.flag == long && program.starts_with(&u.program))
        {
            entry.push(Use {
                program,
                flag: format!("--{long}"),
                default: default.join(","),
                help,
            });
        }
    }
    for sub in command.get_subcommands() {
        collect(sub, &format!("{path} {}", sub.get_name()), uses);
    }
}

/// `text` for a Markdown table cell: one line, no pipes.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The values of `uses`, each once: "x" when all agree, else "x (a, b), y (c)".
fn per_program(uses: &[Use], value: impl Fn(&Use) -> String) -> String {
    let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
    for u in uses {
        let v = value(u);
        match grouped.iter_mut().find(|(seen, _)| *seen == v) {
            Some((_, programs)) => programs.push(&u.program),
            None => grouped.push((v, vec![&u.program])),
        }
    }
    if grouped.len() == 1 {
        return grouped.remove(0).0;
    }
    grouped
        .into_iter()
        .map(|(v, programs)| {
            let programs: Vec<String> = programs.iter().map(|p| format!("`{p}`")).collect();
            format!("{v} ({})", programs.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The reference table, as docs/operations.md holds it.
pub fn markdown() -> String {
    let mut uses = BTreeMap::new();
    for program in programs() {
        let name = program.get_name().to_string();
        collect(&program, &name, &mut uses);
    }
    let mut out =
        String::from("| variable | flag | default | read by | meaning |\n|---|---|---|---|---|\n");
    for (variable, uses) in &uses {
        let flags = per_program(uses, |u| format!("`{}`", u.flag));
        let defaults = per_program(uses, |u| {
            if u.default.is_empty() {
                "unset".to_string()
            } else {
                format!("`{}`", u.default)
            }
        });
        let programs: Vec<String> = uses.iter().map(|u| format!("`{}`", u.program)).collect();
        let meaning = uses
            .iter()
            .find(|u| u.program.starts_with("duban-"))
            .or(uses.first())
            .map(|u| cell(&u.help))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{variable}` | {flags} | {} | {} | {meaning} |\n",
            cell(&defaults),
            programs.join(", ")
        ));
    }
    for (variable, default, programs, meaning) in OUTSIDE_CLAP {
        out.push_str(&format!(
            "| `{variable}` | | {default} | {programs} | {} |\n",
            cell(meaning)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    const BEGIN: &str = "<!-- generated by `duban config reference`: edit the flags' doc comments, then paste -->\n";
    const END: &str = "<!-- end of the generated reference -->";

    #[test]
    fn the_operations_guide_holds_the_generated_reference() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/operations.md");
        let docs = std::fs::read_to_string(path).expect("docs/operations.md");
        let held = docs
            .split_once(BEGIN)
            .and_then(|(_, rest)| rest.split_once(END))
            .map(|(table, _)| table)
            .expect("docs/operations.md marks the generated reference");
        let generated = super::markdown();
        assert!(
            held == generated,
            "docs/operations.md's configuration reference differs from the command lines: \
             replace it with the output of `cargo run --bin duban -- config reference`"
        );
    }

    #[test]
    fn every_variable_is_listed_once_with_its_flag() {
        let table = super::markdown();
        for (variable, flag) in [
            ("DUBAN_TOKEN_KEY_FILE", "--key-file"),
            ("DUBAN_TOKEN", "--token"),
            ("DUBAN_TLS_CA", "--tls-ca"),
            ("DUBAN_REVOCATIONS_URL", "--revocations-url"),
            ("DATABASE_URL", "--database-url"),
        ] {
            let rows: Vec<&str> = table
                .lines()
                .filter(|l| l.starts_with(&format!("| `{variable}` |")))
                .collect();
            assert_eq!(rows.len(), 1, "{variable}: {rows:?}");
            assert!(rows[0].contains(flag), "{variable}: {}", rows[0]);
        }
    }
}
