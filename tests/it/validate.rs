//! `agentsync validate` on good and bad repositories: messages, positions and exit codes.

use crate::fixture;

use fixture::{Repo, minimal};

/// Runs `validate` in a repository holding one definition file, expecting it to fail.
fn invalid(file: &str, text: &str) -> String {
    let repo = Repo::new();
    repo.write(file, text);
    let before = repo.files();
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    assert_eq!(repo.files(), before, "validate must write nothing");
    assert!(
        run.stdout.is_empty(),
        "results only on success: {}",
        run.stdout
    );
    run.stderr
}

#[test]
fn the_repository_examples_are_valid() {
    let repo = Repo::with_examples();
    let run = repo.run(&["validate"]);
    run.expect_success();
    assert_eq!(run.stdout, "valid: 5 definitions in agents (workfx)\n");
}

#[test]
fn the_repository_itself_validates_from_its_own_root() {
    let run = fixture::agentsync(&["validate"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .run();
    run.expect_success();
    assert_eq!(
        run.stdout,
        "valid: 5 definitions in agents (target support, workfx)\nvalid: 2 definitions in voice-agents (target voice, agent-workflows)\nvalid: 3 definitions in flat-agents (target flat, agents-v1)\n"
    );
}

#[test]
fn a_yaml_syntax_error_points_at_the_line() {
    let stderr = invalid(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: [unclosed\ntags: []\n",
    );
    assert!(stderr.contains("invalid YAML"), "{stderr}");
    assert!(stderr.contains("agents/a.yaml:"), "{stderr}");
    fixture::snapshot!(stderr);
}

#[test]
fn an_unknown_field_is_named_with_a_suggestion() {
    let stderr = invalid("agents/a.yaml", "kind: agent\nkey: a\nnmae: A\n");
    assert!(
        stderr.contains("unknown field 'nmae', did you mean 'name'?"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:3:1"), "{stderr}");
    fixture::snapshot!(stderr);
}

#[test]
fn an_unknown_field_inside_the_flow_is_found_too() {
    let stderr = invalid(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph: {}\n  feature: {}\n",
    );
    assert!(
        stderr.contains("unknown field 'feature', did you mean 'features'?"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:6:3"), "{stderr}");
}

#[test]
fn a_wrong_type_names_the_field_and_both_types() {
    let stderr = invalid("agents/a.yaml", "kind: agent\nkey: a\nname: A\ntags: x\n");
    assert!(
        stderr.contains("field 'tags' must be a list of strings, found a string"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:4:7"), "{stderr}");
    fixture::snapshot!(stderr);
}

#[test]
fn a_missing_key_is_reported() {
    let stderr = invalid("agents/a.yaml", "kind: agent\nname: A\n");
    assert!(stderr.contains("missing required field 'key'"), "{stderr}");
    assert!(stderr.contains("agents/a.yaml:1:1"), "{stderr}");
}

#[test]
fn a_missing_name_is_reported_with_the_agent_key() {
    let stderr = invalid("agents/a.yaml", "kind: agent\nkey: billing\n");
    assert!(
        stderr.contains("agent 'billing': missing required field 'name'"),
        "{stderr}"
    );
    fixture::snapshot!(stderr);
}

#[test]
fn a_key_of_the_wrong_form_is_refused() {
    let stderr = invalid("agents/a.yaml", "kind: agent\nkey: Support_Bot\nname: A\n");
    assert!(
        stderr.contains("key 'Support_Bot' must match [a-z0-9][a-z0-9-]*"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:2:6"), "{stderr}");
}

#[test]
fn the_same_key_in_two_files_names_both_files() {
    let repo = Repo::new();
    repo.write("agents/one.yaml", &minimal("shared"));
    repo.write("agents/two/two.yaml", &minimal("shared"));
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("agent 'shared': key 'shared' is also defined in agents/one.yaml");
    run.expect_stderr_contains("agents/two/two.yaml:2:6");
    fixture::snapshot!(run.stderr);
}

#[test]
fn a_missing_environment_variable_is_named_with_the_file() {
    let stderr = invalid(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph: {}\n  flow_variables:\n    API: \"${env:AGENTSYNC_TEST_UNSET}/v1\"\n",
    );
    assert!(
        stderr.contains("field 'flow.flow_variables.API' uses ${env:AGENTSYNC_TEST_UNSET}, but the environment variable AGENTSYNC_TEST_UNSET is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:7:10"), "{stderr}");
    fixture::snapshot!(stderr);
}

#[test]
fn a_set_environment_variable_makes_the_definition_valid() {
    let repo = Repo::new();
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\ndescription: \"${env:AGENTSYNC_TEST_SET}\"\n",
    );
    repo.run_with_env(&["validate"], &[("AGENTSYNC_TEST_SET", "hello")])
        .expect_success();
}

#[test]
fn a_missing_graph_file_is_named_relative_to_the_repository() {
    let stderr = invalid(
        "agents/team/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph_file: flows/missing.json\n",
    );
    assert!(
        stderr.contains("graph_file 'agents/team/flows/missing.json' cannot be read"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/team/a.yaml:5:15"), "{stderr}");
}

#[test]
fn a_graph_file_is_read_and_not_taken_for_a_definition() {
    let repo = Repo::new();
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph_file: flows/a.yaml\n",
    );
    repo.write("agents/flows/a.yaml", "nodes: []\nedges: []\n");
    let run = repo.run(&["validate"]);
    run.expect_success();
    assert_eq!(run.stdout, "valid: 1 definition in agents (workfx)\n");
}

#[test]
fn a_broken_json_graph_file_gives_the_parser_position() {
    let repo = Repo::new();
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph_file: g.json\n",
    );
    repo.write("agents/g.json", "{\"nodes\": [}\n");
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("graph_file 'agents/g.json' is not valid JSON")
            && run.stderr.contains("line 1 column 12"),
        "{}",
        run.stderr
    );
}

#[test]
fn graph_and_graph_file_together_are_refused() {
    let repo = Repo::new();
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph: {}\n  graph_file: g.json\n",
    );
    repo.write("agents/g.json", "{}");
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("fields 'flow.graph_file' and 'flow.graph' cannot both be set");
}

#[test]
fn a_top_level_that_is_not_a_mapping_is_refused() {
    let stderr = invalid("agents/a.yaml", "- kind: agent\n- key: a\n");
    assert!(
        stderr.contains("the top level is a list, but a definition is a mapping of fields"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:1:1"), "{stderr}");
}

#[test]
fn an_empty_file_is_refused() {
    let stderr = invalid("agents/a.yml", "");
    assert!(
        stderr.contains("error: agents/a.yml: the file is empty"),
        "{stderr}"
    );
    fixture::snapshot!(stderr);
}

#[test]
fn a_kind_other_than_agent_is_refused() {
    let stderr = invalid("agents/a.yaml", "kind: tool\nkey: a\nname: A\n");
    assert!(
        stderr.contains("agent 'a': kind 'tool' is not supported here"),
        "{stderr}"
    );
    assert!(stderr.contains("agents/a.yaml:1:7"), "{stderr}");
}

#[test]
fn a_reference_to_an_undefined_agent_is_refused() {
    let stderr = invalid(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph:\n    nodes:\n      - data: {agent_id: \"${agent:ghost}\"}\n",
    );
    assert!(
        stderr.contains("${agent:ghost} in field 'flow.graph.nodes[0].data.agent_id' refers to no agent defined in this repository"),
        "{stderr}"
    );
}

#[test]
fn a_reference_cycle_is_refused() {
    let repo = Repo::new();
    let referring = |key: &str, target: &str| {
        format!(
            "kind: agent\nkey: {key}\nname: {key}\nflow:\n  graph: {{next: \"${{agent:{target}}}\"}}\n"
        )
    };
    repo.write("agents/a.yaml", &referring("a", "b"));
    repo.write("agents/b.yaml", &referring("b", "a"));
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("references form a cycle: a -> b -> a");
}

#[test]
fn every_problem_in_every_file_is_reported_in_one_run() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", "kind: agent\nkey: a\nnmae: A\ntags: x\n");
    repo.write("agents/b.yaml", "kind: agent\nkey: B\nname: B\n");
    repo.write("agents/c.yaml", &minimal("c"));
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    for expected in [
        "unknown field 'nmae'",
        "field 'tags' must be a list",
        "missing required field 'name'",
        "key 'B' must match",
        "error: 4 problems in 2 files; nothing was done",
    ] {
        assert!(
            run.stderr.contains(expected),
            "missing {expected:?} in\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_definitions_directory_is_an_error() {
    let repo = Repo::bare();
    repo.write("agentsync.yaml", fixture::CONFIG);
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("the definitions directory agents does not exist");
}

#[test]
fn an_unknown_configuration_setting_is_refused_with_its_position() {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        "provider: workfx\nendpoint: embedded\nprovder: x\n",
    );
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("unknown setting 'provder', did you mean 'provider'?");
    run.expect_stderr_contains("agentsync.yaml:3:1");
    fixture::snapshot!(run.stderr);
}

#[test]
fn no_configuration_anywhere_says_how_to_point_at_one() {
    let repo = Repo::bare();
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("no agentsync.yaml found in");
    run.expect_stderr_contains("--config FILE");
}

#[test]
fn the_configuration_is_found_from_a_subdirectory_and_paths_stay_readable() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let run = repo
        .command(&["validate"])
        .current_dir(repo.path().join("agents"))
        .run();
    run.expect_success();
}

#[test]
fn flags_override_the_configuration() {
    let repo = Repo::new();
    repo.write("other/a.yaml", &minimal("a"));
    let run = repo.run(&["validate", "--definitions", "other"]);
    run.expect_success();
    assert_eq!(run.stdout, "valid: 1 definition in other (workfx)\n");
}

#[test]
fn environment_variables_override_the_configuration() {
    let repo = Repo::new();
    let run = repo.run_with_env(&["validate"], &[("AGENTSYNC_CONCURRENCY", "lots")]);
    run.expect_code(1);
    run.expect_stderr_contains(
        "AGENTSYNC_CONCURRENCY: setting 'concurrency' must be a whole number, not 'lots'",
    );
}

#[test]
fn a_usage_error_exits_1_not_2() {
    // 2 means "changes" under `plan --detailed-exitcode`; a typo must never read as that.
    let repo = Repo::new();
    repo.run(&["validate", "--no-such-flag"]).expect_code(1);
    repo.run(&["--help"]).expect_success();
}

#[test]
fn a_50_mb_definition_is_refused_without_being_read() {
    let repo = Repo::new();
    let file = std::fs::File::create(repo.path().join("agents/huge.yaml")).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("agents/huge.yaml: the file is 52428800 bytes, more than the 8388608 bytes a definition may have");
}

#[test]
fn a_graph_nested_ten_thousand_levels_deep_is_an_error_not_a_crash() {
    let repo = Repo::new();
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph_file: deep.json\n",
    );
    let deep = "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000);
    repo.write("agents/deep.json", &deep);
    let inline = "[".repeat(10_000) + &"]".repeat(10_000);
    repo.write(
        "agents/b.yaml",
        &format!("kind: agent\nkey: b\nname: B\nflow:\n  graph: {{nodes: {inline}}}\n"),
    );
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("graph_file 'agents/deep.json' is not valid JSON");
    run.expect_stderr_contains("agents/b.yaml");
}

#[test]
fn an_agent_workflows_definition_is_checked_offline_against_its_own_fields() {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        "provider: agent-workflows\nendpoint: embedded\n",
    );
    repo.write(
        "agents/lead.yaml",
        "kind: agent\nkey: lead\nname: Leads\nfolder: \"five\"\nflow: {}\ndefinition_file: missing.json\n",
    );
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("field 'folder' must be an integer");
    run.expect_stderr_contains("unknown field 'flow'");
    fixture::snapshot!(run.stderr);
}

#[test]
fn a_configuration_with_two_targets_validates_each_under_its_own_platform() {
    let repo = Repo::new();
    repo.write(
        "agentsync.yaml",
        "targets:\n  support:\n    provider: workfx\n    endpoint: embedded\n    definitions: agents/support\n  voice:\n    provider: agent-workflows\n    endpoint: embedded\n    definitions: agents/voice\n",
    );
    repo.write("agents/support/a.yaml", &minimal("a"));
    repo.write(
        "agents/voice/b.yaml",
        "kind: agent\nkey: b\nname: B\ndefinition: {nodes: [], edges: []}\n",
    );
    let run = repo.run(&["validate"]);
    run.expect_success();
    assert_eq!(
        run.stdout,
        "valid: 1 definition in agents/support (target support, workfx)\nvalid: 1 definition in agents/voice (target voice, agent-workflows)\n"
    );
}

#[test]
fn a_literal_agent_reference_beside_a_real_one_to_the_same_agent_is_refused() {
    let repo = Repo::new();
    repo.write("agents/b.yaml", &minimal("b"));
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph:\n    nodes:\n      - id: call\n        data: {agent_id: \"${agent:b}\"}\n      - id: note\n        data: {text: \"write $${agent:b} to call it\"}\n",
    );
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("field 'flow.graph.nodes[1].data.text' escapes $${agent:b}");
    run.expect_stderr_contains("agents/a.yaml:10:");
    fixture::snapshot!(run.stderr);

    // The literal alone, or a reference to another agent beside it, is fine.
    repo.write(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph:\n    nodes:\n      - id: note\n        data: {text: \"write $${agent:b} to call it\"}\n",
    );
    repo.run(&["validate"]).expect_success();
}

/// A definition whose flow's graph is the file `graph_file` names.
fn including(key: &str, graph_file: &str) -> String {
    format!(
        "kind: agent\nkey: {key}\nname: {key} agent\nflow:\n  mode: chat\n  graph_file: {graph_file}\n"
    )
}

#[test]
fn a_graph_file_outside_the_repository_is_refused_at_its_line_without_showing_a_byte_of_it() {
    let outside = tempfile::tempdir().unwrap();
    let secret = "{\"nodes\": [], \"token\": \"s3cr3t-outside\"}";
    std::fs::write(outside.path().join("secret.json"), secret).unwrap();
    let absolute = outside.path().join("secret.json").display().to_string();
    let repo = Repo::new();
    let up = "../".repeat(repo.path().components().count() + 2);
    let relative = format!("{up}{}", absolute.trim_start_matches('/'));
    for graph_file in [absolute.as_str(), relative.as_str()] {
        repo.write("agents/a.yaml", &including("a", graph_file));
        for command in ["validate", "plan"] {
            let run = repo.run(&[command]);
            run.expect_code(1);
            assert!(
                run.stderr.contains("agent 'a': flow.graph_file '")
                    && run.stderr.contains("' lies outside the repository"),
                "{}",
                run.stderr
            );
            run.expect_stderr_contains("agents/a.yaml:6:15");
            run.expect_stderr_lacks("s3cr3t");
            run.expect_stdout_lacks("s3cr3t");
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn the_process_environment_is_never_read_as_a_graph_file() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &including("a", "/proc/self/environ"));
    for command in ["validate", "plan", "apply"] {
        let run = repo.run_with_env(&[command], &[("WORKFX_TOKEN", "tok-never-shown")]);
        run.expect_code(1);
        run.expect_stderr_contains(
            "flow.graph_file '/proc/self/environ' lies outside the repository",
        );
        run.expect_stderr_lacks("tok-never-shown");
    }
}

#[cfg(unix)]
#[test]
fn a_graph_file_symlinked_to_a_file_outside_the_repository_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("g.json"), "{\"leak\": \"s3cr3t\"}").unwrap();
    let repo = Repo::new();
    repo.write("agents/a.yaml", &including("a", "g.json"));
    std::os::unix::fs::symlink(
        outside.path().join("g.json"),
        repo.path().join("agents/g.json"),
    )
    .unwrap();
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains("flow.graph_file 'agents/g.json' lies outside the repository");
    run.expect_stderr_lacks("s3cr3t");
}

#[cfg(unix)]
#[test]
fn graph_files_elsewhere_in_the_repository_and_symlinks_inside_it_are_read() {
    let repo = Repo::new();
    repo.write("flows/x.json", "{\"nodes\": [], \"edges\": []}");
    repo.write("agents/a.yaml", &including("a", "../flows/x.json"));
    repo.write("agents/b.yaml", &including("b", "linked.json"));
    std::os::unix::fs::symlink("../flows/x.json", repo.path().join("agents/linked.json")).unwrap();
    let run = repo.run(&["validate"]);
    run.expect_success();
    assert_eq!(run.stdout, "valid: 2 definitions in agents (workfx)\n");
}

#[cfg(unix)]
#[test]
fn a_graph_file_that_is_a_named_pipe_is_refused_at_once() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &including("a", "pipe.json"));
    let pipe =
        std::ffi::CString::new(repo.path().join("agents/pipe.json").display().to_string()).unwrap();
    // SAFETY: a valid, NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(pipe.as_ptr(), 0o600) }, 0);
    let run = repo
        .command(&["validate"])
        .run_within(std::time::Duration::from_secs(20));
    run.expect_code(1);
    run.expect_stderr_contains(
        "flow.graph_file 'agents/pipe.json' is a named pipe, not a regular file",
    );
    run.expect_stderr_contains("agents/a.yaml:6:15");
}

#[test]
fn a_graph_file_holding_no_mapping_is_refused_like_an_inline_graph() {
    let inline = invalid(
        "agents/a.yaml",
        "kind: agent\nkey: a\nname: A\nflow:\n  graph: hello\n",
    );
    assert!(
        inline.contains("field 'flow.graph' must be a mapping, found a string"),
        "{inline}"
    );
    for (file, text, found) in [
        ("g.json", "\"hello\"", "a string"),
        ("g.json", "[1, 2]", "a list"),
        ("g.yaml", "hello\n", "a string"),
        ("g.json", "null", "null"),
    ] {
        let repo = Repo::new();
        repo.write("agents/a.yaml", &including("a", file));
        repo.write(&format!("agents/{file}"), text);
        let run = repo.run(&["validate"]);
        run.expect_code(1);
        assert!(
            run.stderr.contains(&format!(
                "agent 'a': field 'flow.graph' must be a mapping, found {found}"
            )),
            "{file} holding {text}: {}",
            run.stderr
        );
        run.expect_stderr_contains(&format!("agents/{file}:1:1"));
    }
}

#[test]
fn a_definition_that_another_names_as_its_graph_file_is_an_error_naming_both() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &including("a", "b.yaml"));
    repo.write("agents/b.yaml", &minimal("b"));
    repo.write("agents/c.yaml", &minimal("c"));
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    run.expect_stderr_contains(
        "agent 'a': flow.graph_file 'agents/b.yaml' is a definition of its own",
    );
    run.expect_stderr_contains("agents/a.yaml:6:15");
}

#[cfg(unix)]
#[test]
fn a_symlinked_definition_inside_the_repository_is_loaded() {
    let repo = Repo::new();
    repo.write("shared/b.yaml", &minimal("b"));
    repo.write("agents/a.yaml", &minimal("a"));
    std::os::unix::fs::symlink("../shared/b.yaml", repo.path().join("agents/b.yaml")).unwrap();
    let run = repo.run(&["validate"]);
    run.expect_success();
    assert_eq!(run.stdout, "valid: 2 definitions in agents (workfx)\n");
}

#[cfg(unix)]
#[test]
fn a_symlinked_definition_leading_outside_the_repository_or_nowhere_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("b.yaml"), minimal("b")).unwrap();
    let repo = Repo::new();
    repo.write("agents/a.yaml", &minimal("a"));
    let link = |target: &std::path::Path, name: &str| {
        std::os::unix::fs::symlink(target, repo.path().join("agents").join(name)).unwrap();
    };
    link(&outside.path().join("b.yaml"), "b.yaml");
    link(std::path::Path::new("loop.yaml"), "loop.yaml");
    link(std::path::Path::new("missing.yaml"), "dangling.yaml");
    let run = repo.run(&["validate"]);
    run.expect_code(1);
    for expected in [
        "agents/b.yaml: the file is a symlink to a file outside the repository",
        "agents/loop.yaml: the symlink cannot be followed",
        "agents/dangling.yaml: the symlink cannot be followed",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
}

#[test]
fn an_empty_name_is_refused_offline_at_its_line() {
    for name in ["\"\"", "\"   \""] {
        let stderr = invalid(
            "agents/a.yaml",
            &format!("kind: agent\nkey: a\nname: {name}\n"),
        );
        assert!(
            stderr.contains("agent 'a': field 'name' is empty"),
            "{stderr}"
        );
        assert!(stderr.contains("agents/a.yaml:3:7"), "{stderr}");
    }
}

#[test]
fn an_integer_beyond_64_bits_is_refused_inline_and_in_a_json_graph_file() {
    let huge = "99999999999999999999";
    let inline = invalid(
        "agents/a.yaml",
        &format!("kind: agent\nkey: a\nname: A\nflow:\n  graph: {{nodes: [], n: {huge}}}\n"),
    );
    assert!(
        inline.contains(&format!(
            "the integer {huge} does not fit in a signed 64-bit integer"
        )),
        "{inline}"
    );
    assert!(inline.contains("agents/a.yaml:5:25"), "{inline}");
    for graph in [
        format!("{{\"nodes\": [], \"n\": {huge}}}"),
        "{\"nodes\": [], \"n\": 12345678901234567890}".to_string(),
        format!("{{\"nodes\": [1, 2, -{huge}]}}"),
    ] {
        let repo = Repo::new();
        repo.write("agents/a.yaml", &including("a", "g.json"));
        repo.write("agents/g.json", &graph);
        let run = repo.run(&["validate"]);
        run.expect_code(1);
        assert!(
            run.stderr
                .contains("does not fit in a signed 64-bit integer")
                && run.stderr.contains("agents/g.json:1:"),
            "{graph}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_control_character_in_a_definition_is_refused_at_its_place_whichever_reader_reads_it() {
    for control in ["\u{0}", "\u{1}", "\u{1b}"] {
        // The second file holds an anchor, which the common shape's reader leaves to saphyr.
        for tail in ["", "description: &d x\n"] {
            let stderr = invalid(
                "agents/a.yaml",
                &format!("kind: agent\nkey: a\nname: A{control}b\n{tail}"),
            );
            assert!(
                stderr.contains(&format!(
                    "the control character U+{:04X}",
                    u32::from(control.chars().next().unwrap())
                )),
                "{control:?} {tail:?}: {stderr}"
            );
            assert!(stderr.contains("agents/a.yaml:3:8"), "{stderr}");
        }
    }
}

#[test]
fn the_reference_readers_read_every_example_as_the_fast_ones_do() {
    let switch = agentsync::text::REFERENCE_READERS_VAR;
    let with_json_graph = [
        (Repo::with_examples(), "flow:\n  graph_file: graph.json\n"),
        (Repo::with_voice_examples(), "definition_file: graph.json\n"),
    ];
    for (repo, include) in with_json_graph {
        // A graph written in JSON goes through the JSON include path too.
        repo.write(
            "agents/json-graph.yaml",
            &format!("kind: agent\nkey: json-graph\nname: J\n{include}"),
        );
        repo.write(
            "agents/graph.json",
            r#"{"nodes": [{"id": "n", "data": {"x": 1.5e3}}], "edges": []}"#,
        );
        let runs = |args: &[&str]| {
            let fast = repo.run_with_env(args, &[(switch, "0")]);
            let reference = repo.run_with_env(&[args, &["-v"]].concat(), &[(switch, "1")]);
            reference.expect_stderr_contains("read by the reference readers");
            (fast, reference)
        };
        let (fast, reference) = runs(&["validate"]);
        fast.expect_success();
        assert_eq!(fast.stdout, reference.stdout);
        let (fast, reference) = runs(&["plan", "--output", "json"]);
        fast.expect_success();
        assert_eq!(fast.stdout, reference.stdout);
    }
}

#[test]
fn previous_names_must_be_a_list_of_names() {
    let repo = Repo::new();
    repo.write("agents/a.yaml", &(minimal("a") + "previous_names: 3\n"));
    repo.run(&["validate"])
        .expect_code(1)
        .expect_stderr_contains("previous_names")
        .expect_stderr_contains("a list of names");
    repo.write(
        "agents/a.yaml",
        &(minimal("a") + "previous_names: [Old, \"\"]\n"),
    );
    repo.run(&["validate"])
        .expect_code(1)
        .expect_stderr_contains("a list of names");
    repo.write(
        "agents/a.yaml",
        &(minimal("a") + "previous_names: [Old name]\n"),
    );
    repo.run(&["validate"]).expect_success();
}
