//! `gatehouse completions bash|zsh|fish`: the shell completion script of the whole command
//! line, generated from the clap definitions (clap_complete), on standard output.

use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell;

#[derive(Clone, Copy, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: CompletionShell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<()> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = super::Cli::command();
    clap_complete::generate(shell, &mut cmd, "gatehouse", &mut std::io::stdout());
    Ok(())
}
