//! Shell completions and the manual page, through the real binary.

use crate::fixture;

use fixture::Repo;

const COMMANDS: &[&str] = &[
    "validate", "plan", "apply", "watch", "status", "export", "schema",
];

#[test]
fn completions_generate_for_each_shell_naming_the_subcommands() {
    let repo = Repo::bare();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = repo.run(&["completions", shell]);
        run.expect_success();
        assert!(!run.stdout.is_empty(), "{shell}");
        for command in COMMANDS {
            assert!(run.stdout.contains(command), "{shell} lacks {command}");
        }
    }
    assert!(
        repo.run(&["completions", "bash"])
            .stdout
            .contains("--key-from")
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let run = Repo::bare().run(&["completions", "tcsh"]);
    run.expect_code(1);
    run.expect_stderr_contains("tcsh");
}

#[test]
fn the_man_page_names_the_commands_and_one_page_per_command_can_be_written() {
    let repo = Repo::bare();
    let run = repo.run(&["man"]);
    run.expect_success();
    assert!(
        run.stdout.starts_with(".ie"),
        "roff: {}",
        &run.stdout[..40.min(run.stdout.len())]
    );
    for command in COMMANDS {
        assert!(run.stdout.contains(command), "{command}");
    }
    let run = repo.run(&["man", "--out", "man"]);
    run.expect_success();
    for page in ["agentsync.1", "agentsync-export.1", "agentsync-status.1"] {
        assert!(
            repo.path().join("man").join(page).is_file(),
            "{page}: {:?}",
            repo.files()
        );
    }
}
