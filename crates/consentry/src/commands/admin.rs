//! `consentry admin create NAME [--role operator|auditor]`: a console account for platform
//! staff. The password comes from stdin when stdin is not a terminal (scripts, tests:
//! `printf 'pw\n' | consentry admin create li`), else it is asked twice without echo. It is
//! never an argument: arguments show in `ps` and shell history.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use store::AccountRole;

use super::Common;

/// Console accounts.
#[derive(Debug, clap::Subcommand)]
pub enum Admin {
    /// Creates a console account for platform staff (merchants set theirs up with their API key
    /// at /console/setup).
    Create {
        /// Sign-in name: letters, digits, '.', '_', '-', '@'.
        name: String,
        /// `operator` (everything) or `auditor` (read-only).
        #[arg(long, default_value = "operator")]
        role: String,
        #[command(flatten)]
        common: Common,
    },
}

fn read_password() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").context("reading the password")?;
        let again = rpassword::prompt_password("again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ; nothing was created");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

pub fn run(what: &Admin) -> Result<ExitCode> {
    match what {
        Admin::Create { name, role, common } => {
            let role = match role.as_str() {
                "operator" => AccountRole::Operator,
                "auditor" => AccountRole::Auditor,
                other => bail!("--role {other:?}: expected operator or auditor"),
            };
            let config = common.load()?;
            let store = common.open_store(&config)?;
            let password = read_password()?;
            let account = gateway::accounts::create_account(
                &store,
                name,
                role,
                &password,
                jiff::Timestamp::now(),
            )?;
            println!(
                "created {} account {:?} (id {}); sign in at /console",
                account.role.as_str(),
                account.name,
                account.id
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
