"""click's test runner with stdout and stderr kept apart, on every click the client supports."""

from click.testing import CliRunner


def cli_runner() -> CliRunner:
    """`result.stdout` is the output alone and `result.stderr` the error lines. click 8.2+ always keeps them
    apart; click 8.1 (the Ape environment's) needs `mix_stderr=False`, an argument 8.2 removed."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()
