"""Helpers for the bench scripts' Python: the per-workload summaries of a gonogo JSON
report, and the rows of a script's raw table (imported by the scripts' inline Python;
lib.sh puts bench/ on PYTHONPATH)."""


def workloads(node, *keys):
    """Every object in the report (depth first) that holds all of `keys`, e.g. the
    workload summaries: workloads(report, "requests", "measured_seconds")."""
    if isinstance(node, dict):
        if all(k in node for k in keys):
            yield node
        for v in node.values():
            yield from workloads(v, *keys)
    elif isinstance(node, list):
        for v in node:
            yield from workloads(v, *keys)


def errors(summary):
    """The failed requests of a workload summary, all kinds together."""
    return sum(v for v in summary["errors"].values() if isinstance(v, int))


def rows(path):
    """The rows of a raw table a script wrote (one run a line, fields separated by
    white space), each as its list of fields."""
    with open(path) as table:
        for line in table:
            yield line.split()
