"""Markdown helpers shared by the benchmark scripts.

Generated tables live in benchmarks/README.md between a pair of marker
comments, `<!-- NAME:start -->` and `<!-- NAME:end -->`, so a script
rewrites its section and leaves the prose around it as written.
"""

import json
import os

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")


def markers(name):
    """The start and end marker comments of section `name`."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_section(text, name, body):
    """`text` with section `name`'s content replaced by `body`.

    A text without the section gets it appended at the end.
    """
    start, end = markers(name)
    section = f"{start}\n{body.strip()}\n{end}"
    head, found, rest = text.partition(start)
    if not found:
        return f"{text.rstrip()}\n\n{section}\n"
    _, found, tail = rest.partition(end)
    if not found:
        raise ValueError(f"{start} has no matching {end}.")
    return f"{head}{section}{tail}"


def write_section(path, name, body):
    """Rewrites section `name` of the markdown file at `path`."""
    text = ""
    if os.path.exists(path):
        with open(path) as file:
            text = file.read()
    with open(path, "w") as file:
        file.write(replace_section(text, name, body))


def readme_path(args):
    """Where a script writes its section (a path or None).

    `--readme` when given, else benchmarks/README.md on a full run and
    nowhere on a `--quick` smoke run.
    """
    return args.readme or (None if args.quick else README)


def add_report_arguments(parser):
    """Adds `--quick` (a smoke run), `--readme PATH` and `--json`."""
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--readme")
    parser.add_argument("--json", action="store_true")


def publish(args, name, body, data):
    """Writes section `name` where `readme_path(args)` says, then prints.

    Prints `data` as JSON with `--json`, else the section's `body`.
    """
    readme = readme_path(args)
    if readme:
        write_section(readme, name, body)
    print(json.dumps(data) if args.json else body)


def table(header, rows):
    """A markdown table from a header and rows of cells."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join(
        "| " + " | ".join(str(cell) for cell in line) + " |" for line in lines
    )
