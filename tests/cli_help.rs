//! Every `--help`, rendered at 100 columns (clap's widest), keeps its examples intact:
//! no example line is wrapped, long commands continue with a trailing `\`, and comments
//! are written one way, `# text` after the command.

mod common;

/// Every subcommand path, found by reading the "Commands:" section of each help.
fn leaves() -> Vec<Vec<String>> {
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    let mut found = Vec::new();
    while let Some(path) = todo.pop() {
        let text = help(&path);
        let mut subs = Vec::new();
        let mut in_commands = false;
        for line in text.lines() {
            if line == "Commands:" {
                in_commands = true;
                continue;
            }
            if in_commands {
                if !line.starts_with("  ") {
                    break;
                }
                let name = line.split_whitespace().next().unwrap_or("");
                if !name.is_empty() && name != "help" && line.starts_with(&format!("  {name}")) {
                    subs.push(name.to_owned());
                }
            }
        }
        if subs.is_empty() {
            found.push(path);
        } else {
            for s in subs {
                let mut p = path.clone();
                p.push(s);
                todo.push(p);
            }
        }
    }
    found.sort();
    found
}

fn help(path: &[String]) -> String {
    let out = common::ppcpv()
        .args(path)
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success(), "{path:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of the Examples section: from "Example(s):" to the first blank line.
fn examples(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("Example"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

/// Programs an example line may start with besides ppcpv.
const OTHER_PROGRAMS: &[&str] = &["qemu-system-ppc", "cpp", "echo"];

#[test]
fn examples_fit_100_columns_and_comment_one_way() {
    let leaves = leaves();
    assert!(leaves.len() >= 20, "{leaves:?}");
    let mut with_examples = 0;
    for path in &leaves {
        let text = help(path);
        let ex = examples(&text);
        if ex.is_empty() {
            continue;
        }
        with_examples += 1;
        let mut continued = false;
        for line in &ex {
            assert!(line.len() <= 100, "{path:?}: {line}");
            if continued {
                // A continuation of a command that ended with `\`.
                assert!(line.starts_with("      "), "{path:?}: {line:?}");
            } else {
                let first = line.split_whitespace().next().unwrap_or("");
                assert!(
                    line.starts_with("  ") && (first == "ppcpv" || OTHER_PROGRAMS.contains(&first)),
                    "{path:?}: a wrapped or stray example line: {line:?}"
                );
            }
            continued = line.ends_with('\\');
            // One comment style: `   # text` after the command; no arrows, no
            // parenthesised remarks in place of a comment.
            let code = line.split(" # ").next().unwrap_or(line);
            assert!(!code.contains("->"), "{path:?}: {line}");
            if let Some(i) = line.find(" # ") {
                assert!(
                    line[..i].ends_with(' '),
                    "{path:?}: comment not spaced: {line}"
                );
            }
            assert!(
                !line.trim_end().ends_with(')') || line.contains('#'),
                "{path:?}: {line}"
            );
        }
        assert!(!continued, "{path:?}: the last example ends with `\\`");
    }
    assert!(
        with_examples >= 15,
        "{with_examples} commands with examples"
    );
}
