//! The dependency rule, checked: a test reads every `crate::` path in `src/` and fails on an
//! arrow the rule does not allow. Dependencies run one way: web -> gateway -> commands -> store;
//! web also reads from the store and calls providers to verify and decode; the delivery worker
//! uses providers and the store; `providers` and `sms` import only leaves; nothing imports `web`
//! but `startup`.

/// For each top-level module, the others it may name. Leaves name none.
const ALLOWED: &[(&str, &[&str])] = &[
    ("secret", &[]),
    ("places", &[]),
    ("scrub", &[]),
    ("seal", &[]),
    ("sms", &[]),
    ("metrics", &[]),
    ("config", &["secret", "sms"]),
    ("telemetry", &["config"]),
    ("providers", &["secret", "sms"]),
    ("store", &["config", "secret", "sms", "scrub", "seal"]),
    (
        "gateway",
        &["store", "places", "config", "secret", "sms", "seal"],
    ),
    (
        "delivery",
        &["providers", "store", "config", "secret", "sms", "seal"],
    ),
    ("simulate", &["providers", "config", "secret", "sms"]),
    ("city", &["gateway", "places", "store", "config", "sms"]),
    ("mail", &["store", "config", "secret"]),
    (
        "web",
        &[
            "gateway",
            "store",
            "places",
            "scrub",
            "seal",
            "providers",
            "metrics",
            "config",
            "secret",
            "sms",
        ],
    ),
    (
        "startup",
        &[
            "web",
            "gateway",
            "delivery",
            "store",
            "places",
            "scrub",
            "seal",
            "city",
            "mail",
            "providers",
            "metrics",
            "config",
            "secret",
            "sms",
        ],
    ),
    (
        "cli",
        &[
            "startup",
            "simulate",
            "store",
            "seal",
            "scrub",
            "places",
            "city",
            "providers",
            "config",
            "telemetry",
            "secret",
            "sms",
        ],
    ),
];

/// Inside the gateway, the commands reach only the store and the gateway's own leaves (the
/// catalog, the replies, routing and what a poll's answer chose), never the lanes, the notices
/// or the officials' actions.
const COMMANDS_MAY_NAME: &[&str] = &[
    "crate::store",
    "crate::sms",
    "crate::gateway::catalog",
    "crate::gateway::replies",
    "crate::gateway::routing",
    "crate::gateway::poll_answers",
    "crate::places",
];

/// The `crate::` paths named in a file's code (comments left out), each as written; a group
/// (`crate::{a, b::c}`) gives one path per member.
fn crate_paths(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let is_path = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let member: String = member.trim().chars().take_while(|c| is_path(*c)).collect();
                if !member.is_empty() {
                    paths.push(format!("crate::{member}"));
                }
            }
        } else {
            let path: String = rest.chars().take_while(|c| is_path(*c)).collect();
            paths.push(format!("crate::{}", path.trim_end_matches(':')));
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn every_arrow_between_modules_is_one_the_rule_allows() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut against = Vec::new();
        for file in &files {
            let relative = file.strip_prefix(&src).unwrap();
            let module = relative
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if module == "lib" || module == "main" || module == "architecture" {
                continue;
            }
            let allowed = ALLOWED
                .iter()
                .find(|(m, _)| *m == module)
                .unwrap_or_else(|| panic!("{module} has no line in ALLOWED"))
                .1;
            let in_commands = relative.starts_with("gateway/commands");
            for path in crate_paths(&std::fs::read_to_string(file).unwrap()) {
                let target = path
                    .trim_start_matches("crate::")
                    .split("::")
                    .next()
                    .unwrap();
                let ok = if target == module {
                    !in_commands || COMMANDS_MAY_NAME.iter().any(|p| path.starts_with(p))
                } else {
                    allowed.contains(&target)
                        && (!in_commands || COMMANDS_MAY_NAME.iter().any(|p| path.starts_with(p)))
                };
                if !ok {
                    against.push(format!("{}: {path}", relative.display()));
                }
            }
        }
        assert!(
            against.is_empty(),
            "arrows against the rule:\n{}",
            against.join("\n")
        );
    }

    #[test]
    fn paths_in_comments_are_not_arrows() {
        let text = "use crate::store::Tx; // see crate::web\n/// [`crate::startup`]\nlet x = crate::sms::f();\nuse crate::{simulate,\n    telemetry::init};";
        assert_eq!(
            crate_paths(text),
            [
                "crate::store::Tx",
                "crate::sms::f",
                "crate::simulate",
                "crate::telemetry::init"
            ]
        );
    }
}
