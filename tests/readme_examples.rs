//! Every `console` example of the README runs from a fresh clone and prints what the
//! README shows.
//!
//! The blocks run in README order in one temporary directory that holds a link to the
//! repository's `tests/` (so `tests/data/...` paths work) and nothing else: every other
//! file an example uses must be made by an earlier line. `ppcpv` is the binary built for
//! this test run. Each `$ ` line runs in bash with stderr merged into stdout, and its
//! output must equal the lines under it, where a line `...` stands for any number of
//! lines (abridged output). Trailing blanks are ignored.
//!
//! A block can be annotated on the line before its opening fence:
//! * `<!-- example: needs PROGRAM -->`: runs only in the ignored test, which fails when
//!   PROGRAM is missing (QEMU's firmware, cpp);
//! * `<!-- example: skip: REASON -->`: not run (your own kernel, an interactive U-Boot
//!   session, `cargo run`); the reason is printed.

mod common;

use std::path::Path;

/// One `$ ` line and the output shown under it.
#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    /// 0-based index of the first output line in README.md.
    out_at: usize,
    expected: Vec<String>,
}

/// One ```` ```console ```` block.
#[derive(Debug)]
struct Block {
    line: usize,
    annotation: Option<String>,
    steps: Vec<Step>,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```console" {
            i += 1;
            continue;
        }
        let annotation = lines[..i]
            .iter()
            .rev()
            .find(|l| !l.trim().is_empty())
            .and_then(|l| l.trim().strip_prefix("<!-- example:"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(|a| a.trim().to_owned());
        let mut block = Block {
            line: i + 1,
            annotation,
            steps: Vec::new(),
        };
        i += 1;
        while i < lines.len() && lines[i].trim_end() != "```" {
            let l = lines[i];
            if let Some(cmd) = l.strip_prefix("$ ") {
                let mut command = cmd.to_owned();
                let start = i + 1;
                // Continuation lines, and the body of a here-document.
                let heredoc = command
                    .split("<<")
                    .nth(1)
                    .and_then(|t| t.split_whitespace().next())
                    .map(|t| t.trim_matches('\'').trim_matches('"').to_owned());
                while command.ends_with('\\') && i + 1 < lines.len() {
                    i += 1;
                    command.push('\n');
                    command.push_str(lines[i]);
                }
                if let Some(end) = heredoc {
                    while i + 1 < lines.len() {
                        i += 1;
                        command.push('\n');
                        command.push_str(lines[i]);
                        if lines[i] == end {
                            break;
                        }
                    }
                }
                block.steps.push(Step {
                    line: start,
                    command,
                    out_at: i + 1,
                    expected: Vec::new(),
                });
            } else if let Some(step) = block.steps.last_mut() {
                step.expected.push(l.trim_end().to_owned());
            } else {
                panic!(
                    "README.md:{}: output before the first `$ ` line of the block",
                    i + 1
                );
            }
            i += 1;
        }
        out.push(block);
        i += 1;
    }
    out
}

/// Whether `actual` matches `expected`, where an expected line `...` matches any run of
/// lines (none included).
fn matches(expected: &[String], actual: &[&str]) -> bool {
    // memo[i][j]: expected[i..] against actual[j..].
    let mut memo = vec![vec![None::<bool>; actual.len() + 1]; expected.len() + 1];
    fn go(e: &[String], a: &[&str], i: usize, j: usize, memo: &mut Vec<Vec<Option<bool>>>) -> bool {
        if let Some(v) = memo[i][j] {
            return v;
        }
        let v = if i == e.len() {
            j == a.len()
        } else if e[i].trim() == "..." {
            (j..=a.len()).any(|k| go(e, a, i + 1, k, memo))
        } else {
            j < a.len() && e[i] == a[j].trim_end() && go(e, a, i + 1, j + 1, memo)
        };
        memo[i][j] = Some(v);
        v
    }
    go(expected, actual, 0, 0, &mut memo)
}

/// A directory with `tests/` linked from the repository, and `ppcpv` on the PATH.
struct Sandbox {
    dir: tempfile::TempDir,
    path: String,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::os::unix::fs::symlink(root.join("tests"), dir.path().join("tests")).unwrap();
        let bin = Path::new(env!("CARGO_BIN_EXE_ppcpv")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Sandbox { dir, path }
    }

    fn run(&self, command: &str) -> String {
        // A command that hangs (QEMU waiting on a console) fails instead of hanging.
        let out = std::process::Command::new("timeout")
            .args(["120", "bash", "-c"])
            .arg(format!("exec 2>&1\n{command}"))
            .current_dir(self.dir.path())
            .env("PATH", &self.path)
            .env("COLUMNS", "100")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Runs the blocks `select` picks, in order, in one sandbox; returns the failures.
///
/// With `UPDATE_GOLDEN` set (after an intended change of output), the README's output
/// of every differing step that shows it whole (no `...`) is replaced by what ran.
fn run_blocks(select: impl Fn(&Block) -> bool) -> (usize, Vec<String>) {
    // One run at a time: an update rewrites README.md, which the next run re-reads.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let sandbox = Sandbox::new();
    let print = std::env::var_os("README_EXAMPLES_PRINT").is_some();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut replace: Vec<(usize, usize, String)> = Vec::new();
    let mut failures = Vec::new();
    let mut steps = 0;
    for block in blocks(&readme()) {
        if let Some(a) = &block.annotation
            && a.starts_with("skip:")
        {
            eprintln!("README.md:{}: not run ({a})", block.line);
            continue;
        }
        if !select(&block) {
            continue;
        }
        for step in &block.steps {
            steps += 1;
            let actual = sandbox.run(&step.command);
            let lines: Vec<&str> = actual.lines().collect();
            if print {
                eprintln!("README.md:{}: $ {}\n{actual}", step.line, step.command);
            }
            if !matches(&step.expected, &lines) {
                if update && !step.expected.iter().any(|l| l.trim() == "...") {
                    replace.push((step.out_at, step.expected.len(), actual.clone()));
                    continue;
                }
                failures.push(format!(
                    "README.md:{}: $ {}\n--- README shows:\n{}\n--- it printed:\n{}",
                    step.line,
                    step.command,
                    step.expected.join("\n"),
                    actual
                ));
            }
        }
    }
    if !replace.is_empty() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let text = readme();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for (at, len, actual) in replace.into_iter().rev() {
            lines.splice(at..at + len, actual.lines().map(str::to_owned));
        }
        std::fs::write(file, lines.join("\n") + "\n").unwrap();
    }
    (steps, failures)
}

fn needs(block: &Block) -> Option<&str> {
    block
        .annotation
        .as_deref()
        .and_then(|a| a.strip_prefix("needs "))
        .map(str::trim)
}

#[test]
fn every_console_example_runs_and_prints_what_the_readme_shows() {
    let (steps, failures) = run_blocks(|b| needs(b).is_none());
    assert!(steps >= 60, "only {steps} README commands found");
    assert!(
        failures.is_empty(),
        "{} of {steps} README commands differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
#[ignore = "needs the programs the annotated README examples name (qemu-system-ppc, cpp)"]
fn examples_that_need_other_programs() {
    for b in blocks(&readme()) {
        if let Some(p) = needs(&b) {
            assert!(common::interop("README examples", p));
        }
    }
    // Every block runs, in order, so the annotated ones see the files made before them.
    let (steps, failures) = run_blocks(|_| true);
    assert!(
        failures.is_empty(),
        "{} of {steps} README commands differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_example_parser_reads_continuations_heredocs_and_ellipses() {
    let text = "x\n<!-- example: needs cpp -->\n```console\n$ echo a \\\n  b\na b\n$ cat <<'EOF'\n1\nEOF\n1\n```\n";
    let b = blocks(text);
    assert_eq!(b.len(), 1);
    assert_eq!(needs(&b[0]), Some("cpp"));
    assert_eq!(b[0].steps.len(), 2);
    assert_eq!(b[0].steps[0].command, "echo a \\\n  b");
    assert_eq!(b[0].steps[1].command, "cat <<'EOF'\n1\nEOF");
    assert_eq!(b[0].steps[1].expected, ["1"]);
    let e: Vec<String> = ["a", "...", "z"].iter().map(|s| s.to_string()).collect();
    assert!(matches(&e, &["a", "z"]));
    assert!(matches(&e, &["a", "b", "c", "z"]));
    assert!(!matches(&e, &["a", "b"]));
    assert!(!matches(&e, &["b", "z"]));
}
