//! The integration tests, as one test binary: the real `agentsync` binary and the library
//! against the embedded simulators over loopback HTTP.

mod fixture;
mod sim_support;

mod agent_workflows;
mod agents_v1;
mod ci_examples;
mod completions;
mod export;
mod http_policy;
mod platforms;
mod provider_workfx;
mod reconcile;
mod request_budget;
mod safety;
mod schema;
mod sim_agent_workflows;
mod sim_agents_v1;
mod sim_cli;
mod sim_server;
mod sim_state;
mod sim_workfx;
mod status;
mod validate;
mod watch;
