//! The CI examples under `examples/ci/` are valid YAML with the structure their systems need,
//! and run the commands and exit-code handling the README describes. `actionlint` checks the
//! GitHub workflow too when it is installed (it is not fetched: the suite needs no network).

use std::path::Path;

use agentsync::yaml::{self, Node, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn load(relative: &str) -> (String, Node) {
    let text = std::fs::read_to_string(Path::new(ROOT).join(relative)).expect("read the example");
    let node = yaml::parse(&text)
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
        .expect("a document");
    (text, node)
}

fn at<'a>(node: &'a Node, path: &[&str]) -> &'a Node {
    path.iter().fold(node, |node, key| {
        &node
            .get(key)
            .unwrap_or_else(|| panic!("no '{key}' on the way to {path:?}"))
            .value
    })
}

fn text_of(node: &Node) -> String {
    match &node.value {
        Value::String(s) => s.clone(),
        Value::Seq(items) => items.iter().map(text_of).collect::<Vec<_>>().join("\n"),
        Value::Map(entries) => entries
            .iter()
            .map(|e| text_of(&e.value))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

#[test]
fn the_github_workflow_plans_on_pull_requests_and_applies_the_saved_plan_on_main() {
    let (_, workflow) = load("examples/ci/github/agentsync.yml");
    at(&workflow, &["on", "pull_request"]);
    assert!(text_of(at(&workflow, &["on", "push", "branches"])).contains("main"));
    let plan = at(&workflow, &["jobs", "plan"]);
    let apply = at(&workflow, &["jobs", "apply"]);
    for job in [plan, apply] {
        at(job, &["runs-on"]);
        assert!(matches!(at(job, &["steps"]).value, Value::Seq(ref s) if !s.is_empty()));
    }
    let plan_steps = text_of(at(plan, &["steps"]));
    for expected in [
        "agentsync plan --detailed-exitcode --output markdown --out plan.json",
        "\"$code\" -ne 2",
        "upload-artifact",
        "agentsync-plan",
        "--method PATCH",
    ] {
        assert!(plan_steps.contains(expected), "plan job lacks {expected}");
    }
    assert_eq!(
        text_of(at(plan, &["permissions", "pull-requests"])),
        "write"
    );
    let apply_steps = text_of(at(apply, &["steps"]));
    assert!(apply_steps.contains("gh run download"));
    assert!(apply_steps.contains("agentsync apply plan.json --yes"));
    at(apply, &["concurrency", "group"]);
}

#[test]
fn the_gitlab_pipeline_keeps_the_plan_as_an_artifact_and_applies_it_on_the_default_branch() {
    let (_, pipeline) = load("examples/ci/gitlab/.gitlab-ci.yml");
    assert_eq!(text_of(at(&pipeline, &["stages"])), "plan\napply");
    let job = at(&pipeline, &["agentsync:plan"]);
    assert!(text_of(at(job, &["rules"])).contains("merge_request_event"));
    assert_eq!(text_of(at(job, &["extends"])), ".agentsync-plan");
    assert_eq!(
        text_of(at(&pipeline, &["agentsync:plan-main", "extends"])),
        ".agentsync-plan"
    );
    let plan = at(&pipeline, &[".agentsync-plan"]);
    let paths = text_of(at(plan, &["artifacts", "paths"]));
    for file in ["plan.json", "plan.md"] {
        assert!(paths.contains(file), "{paths}");
    }
    let script = text_of(at(plan, &["script"]));
    assert!(script.contains("agentsync plan --detailed-exitcode --out plan.json"));
    assert!(script.contains("\"$code\" -ne 2"));
    let apply = at(&pipeline, &["agentsync:apply"]);
    assert_eq!(text_of(at(apply, &["stage"])), "apply");
    assert!(text_of(at(apply, &["needs"])).contains("agentsync:plan-main"));
    assert!(text_of(at(apply, &["script"])).contains("agentsync apply plan.json --yes"));
    at(apply, &["resource_group"]);
}

#[test]
fn actionlint_accepts_the_github_workflow_when_it_is_installed() {
    let file = Path::new(ROOT).join("examples/ci/github/agentsync.yml");
    match std::process::Command::new("actionlint").arg(&file).output() {
        Ok(output) => assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(_) => eprintln!("actionlint is not installed; the structural checks above still ran"),
    }
}
