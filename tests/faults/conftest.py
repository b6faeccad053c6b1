"""The fault suite prints its counts in the terminal summary, whatever pytest captures."""

REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if REPORT:
        terminalreporter.section("fault suite")
        for line in REPORT:
            terminalreporter.write_line(line)
