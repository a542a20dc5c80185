//! The CI examples under `examples/ci/` are valid YAML with the structure their systems need,
//! and run the commands and exit-code handling the README describes. `actionlint` checks the
//! GitHub workflow too when it is installed (it is not fetched: the suite needs no network).
//! The deployment examples under `examples/deploy/` give agentsync a writable state directory
//! beside a read-only checkout.

use std::path::Path;

use agentsync::text::yaml::{self, Node, Value};

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
        "agentsync plan --target \"$TARGET\" --detailed-exitcode --output markdown --out plan.json",
        "\"$code\" -ne 2",
        "upload-artifact",
        "agentsync-plan-${{ matrix.target }}-",
        "<!-- agentsync-plan:$TARGET -->",
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
    assert!(apply_steps.contains("agentsync-plan-$TARGET-$head"));
    assert!(apply_steps.contains("agentsync apply plan.json --target \"$TARGET\" --yes"));
}

#[test]
fn the_github_workflow_applies_to_each_target_one_run_at_a_time() {
    let (_, workflow) = load("examples/ci/github/agentsync.yml");
    let plan = at(&workflow, &["jobs", "plan"]);
    let apply = at(&workflow, &["jobs", "apply"]);
    let targets = text_of(at(plan, &["strategy", "matrix", "target"]));
    assert!(!targets.is_empty());
    assert_eq!(
        text_of(at(apply, &["strategy", "matrix", "target"])),
        targets,
        "plan and apply cover the same targets"
    );
    for job in [plan, apply] {
        assert_eq!(text_of(at(job, &["env", "TARGET"])), "${{ matrix.target }}");
        assert!(matches!(
            at(job, &["strategy", "fail-fast"]).value,
            Value::Bool(false)
        ));
    }
    // Queued per target, never cancelled half-way.
    let group = text_of(at(apply, &["concurrency", "group"]));
    assert!(group.contains("${{ matrix.target }}"), "{group}");
    assert!(matches!(
        at(apply, &["concurrency", "cancel-in-progress"]).value,
        Value::Bool(false)
    ));
}

#[test]
fn the_gitlab_pipeline_keeps_the_plan_as_an_artifact_and_applies_it_on_the_default_branch() {
    let (_, pipeline) = load("examples/ci/gitlab/.gitlab-ci.yml");
    assert_eq!(text_of(at(&pipeline, &["stages"])), "plan\napply");
    let job = at(&pipeline, &["agentsync:plan"]);
    assert!(text_of(at(job, &["rules"])).contains("merge_request_event"));
    assert_eq!(text_of(at(job, &["extends"])), ".agentsync-plan");
    let main = at(&pipeline, &["agentsync:plan-main"]);
    assert_eq!(text_of(at(main, &["extends"])), ".agentsync-plan");
    assert!(text_of(at(main, &["rules"])).contains("$CI_DEFAULT_BRANCH"));
    let plan = at(&pipeline, &[".agentsync-plan"]);
    // A fixed directory: expose_as links no path that holds a variable.
    assert_eq!(text_of(at(plan, &["artifacts", "paths"])), "plans/");
    at(plan, &["artifacts", "expose_as"]);
    let script = text_of(at(plan, &["script"]));
    for expected in [
        "agentsync validate --target \"$TARGET\"",
        "agentsync plan --target \"$TARGET\" --detailed-exitcode --out \"plans/$TARGET.json\"",
        "\"$code\" -ne 2",
        "--output markdown > \"plans/$TARGET.md\"",
    ] {
        assert!(script.contains(expected), "plan script lacks {expected}");
    }
    let apply = at(&pipeline, &["agentsync:apply"]);
    assert_eq!(text_of(at(apply, &["stage"])), "apply");
    assert!(text_of(at(apply, &["needs"])).contains("agentsync:plan-main"));
    assert!(text_of(at(apply, &["rules"])).contains("$CI_DEFAULT_BRANCH"));
    assert!(
        text_of(at(apply, &["script"]))
            .contains("agentsync apply \"plans/$TARGET.json\" --target \"$TARGET\" --yes")
    );
}

#[test]
fn the_gitlab_pipeline_applies_to_each_target_one_pipeline_at_a_time() {
    let (_, pipeline) = load("examples/ci/gitlab/.gitlab-ci.yml");
    let targets = at(&pipeline, &[".agentsync-targets", "parallel", "matrix"]);
    let Value::Seq(entries) = &targets.value else {
        panic!("parallel:matrix is a list");
    };
    assert_eq!(entries.len(), 1);
    assert!(!text_of(at(&entries[0], &["TARGET"])).is_empty());
    for job in [".agentsync-plan", "agentsync:apply"] {
        assert_eq!(
            text_of(at(&pipeline, &[job, "extends"])),
            ".agentsync-targets",
            "{job} runs once per target"
        );
    }
    let group = text_of(at(&pipeline, &["agentsync:apply", "resource_group"]));
    assert!(group.contains("$TARGET"), "{group}");
}

/// The items of a sequence.
fn items(node: &Node) -> &[Node] {
    match &node.value {
        Value::Seq(items) => items,
        other => panic!("expected a list, found {}", other.type_name()),
    }
}

#[test]
fn the_kubernetes_deployment_mounts_a_writable_state_directory_beside_the_read_only_checkout() {
    let text = std::fs::read_to_string(Path::new(ROOT).join("examples/deploy/kubernetes.yaml"))
        .expect("read the manifest");
    let deployment = text.split("\n---\n").next().expect("the Deployment");
    let deployment = yaml::parse(deployment)
        .expect("valid YAML")
        .expect("a document");
    let pod = at(&deployment, &["spec", "template", "spec"]);
    let agentsync = items(at(pod, &["containers"]))
        .iter()
        .find(|c| text_of(at(c, &["name"])) == "agentsync")
        .expect("the agentsync container");
    let args = text_of(at(agentsync, &["args"]));
    let state_dir = args
        .lines()
        .find_map(|a| a.strip_prefix("--state-dir="))
        .unwrap_or_else(|| panic!("no --state-dir in {args}"));
    let mounts = items(at(agentsync, &["volumeMounts"]));
    let mount = mounts
        .iter()
        .find(|m| text_of(at(m, &["mountPath"])) == state_dir)
        .unwrap_or_else(|| panic!("nothing is mounted at {state_dir}"));
    assert!(
        mount.get("readOnly").is_none(),
        "the state directory is writable"
    );
    let checkout = mounts
        .iter()
        .find(|m| text_of(at(m, &["name"])) == "checkout")
        .expect("the checkout");
    assert!(matches!(
        at(checkout, &["readOnly"]).value,
        Value::Bool(true)
    ));
    let name = text_of(at(mount, &["name"]));
    let volume = items(at(pod, &["volumes"]))
        .iter()
        .find(|v| text_of(at(v, &["name"])) == name)
        .expect("the state volume");
    at(volume, &["emptyDir"]);
}

#[test]
fn the_systemd_unit_and_the_image_give_agentsync_a_state_directory_of_its_own() {
    let unit = std::fs::read_to_string(Path::new(ROOT).join("examples/deploy/agentsync.service"))
        .expect("read the unit");
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for expected in [
        "ProtectSystem=strict",
        "StateDirectory=agentsync",
        "Environment=AGENTSYNC_STATE_DIR=%S/agentsync",
    ] {
        assert!(lines.contains(&expected), "the unit lacks {expected}");
    }
    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("examples/deploy/Dockerfile"))
        .expect("read the Dockerfile");
    assert!(dockerfile.contains("ENV AGENTSYNC_STATE_DIR=/var/lib/agentsync"));
    assert!(dockerfile.contains("--chown=65532:65532 /state /var/lib/agentsync"));
    // The build image is at least the toolchain the crate asks for.
    let manifest =
        std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).expect("read Cargo.toml");
    let wanted = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("a rust-version")
        .trim_matches('"');
    assert!(
        dockerfile.contains(&format!("FROM rust:{wanted}-")),
        "the build stage is not rust:{wanted}"
    );
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
