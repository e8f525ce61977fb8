"""Prints the fuzzing figures at the end of the run."""


def pytest_terminal_summary(terminalreporter):
    from tests.fuzz.test_api_fuzz import FIGURES, pytest_terminal_summary_lines

    if FIGURES["requests"]:
        for line in pytest_terminal_summary_lines():
            terminalreporter.write_line(line)
