//! `agentsync sim` as a process: prints its address, serves, stops cleanly on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

const TIMEOUT: Duration = Duration::from_secs(20);

fn agentsync(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentsync"));
    command
        .args(args)
        .env_remove("AGENTSYNC_SIM_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Kills the child if a test fails before it could stop it properly.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The first stdout line, waited for on a thread so that a silent process fails the test
/// instead of hanging it.
fn first_line(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    receive
        .recv_timeout(TIMEOUT)
        .expect("the simulator prints its address")
}

fn wait_for_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited on") {
            return status;
        }
        assert!(Instant::now() < deadline, "the simulator did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `agentsync sim` with `args`, checks that `path` answers 200, stops it with SIGTERM and
/// checks that it exits 0.
async fn serve_answer_and_stop(args: &[&str], path: &str) {
    let mut sim = Running(agentsync(args).spawn().expect("the binary starts"));
    let line = first_line(&mut sim.0);
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let answer = reqwest::get(format!("{base}{path}"))
        .await
        .expect("the simulator answers");
    assert_eq!(answer.status(), reqwest::StatusCode::OK);

    let killed = Command::new("kill")
        .args(["-TERM", &sim.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = wait_for_exit(&mut sim.0);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[tokio::test]
async fn the_sim_command_prints_its_address_serves_and_exits_0_on_sigterm() {
    serve_answer_and_stop(&["sim", "--listen", "127.0.0.1:0"], "/admin/api/v2/agents").await;
}

#[tokio::test]
async fn the_sim_command_serves_agent_workflows_with_platform_agent_workflows() {
    serve_answer_and_stop(
        &[
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--platform",
            "agent-workflows",
        ],
        "/workflow/fetch",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sim_command_serves_agents_v1_with_platform_agents_v1() {
    serve_answer_and_stop(
        &["sim", "--listen", "127.0.0.1:0", "--platform", "agents-v1"],
        "/v1/agents",
    )
    .await;
}

#[test]
fn the_sim_command_refuses_workfx_only_options_for_the_other_platforms() {
    let options = [
        ["--max-page-size", "100"],
        ["--tenant-id", "t1"],
        ["--tenant-unit-id", "u1"],
    ];
    for (platform, option) in ["agent-workflows", "agents-v1"]
        .into_iter()
        .flat_map(|platform| options.iter().map(move |option| (platform, option)))
    {
        let mut args = vec!["sim", "--listen", "127.0.0.1:0", "--platform", platform];
        args.extend(option);
        let output = agentsync(&args).output().expect("the binary runs");
        assert_eq!(output.status.code(), Some(1), "{platform} {option:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(option[0]), "{stderr}");
        assert!(stderr.contains("workfx only"), "{stderr}");
        assert!(output.stdout.is_empty(), "nothing listened");
    }
}

#[test]
fn the_sim_command_refuses_a_corrupt_state_file_with_exit_1_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    std::fs::write(&path, "not json").expect("written");
    let output = agentsync(&["sim", "--listen", "127.0.0.1:0", "--state"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing listened");
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "not json");
}

#[test]
fn the_sim_command_refuses_a_rate_outside_zero_to_one() {
    let output = agentsync(&["sim", "--error-rate", "1.5"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--error-rate"), "{stderr}");
}
