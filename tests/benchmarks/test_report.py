import pytest
import report


def test_replace_section_keeps_the_prose_around_it():
    text = (
        "# Benchmarks\n\nBefore.\n\n<!-- results:start -->\nold table\n"
        "<!-- results:end -->\n\nAfter.\n"
    )
    updated = report.replace_section(text, "results", "| new |")
    assert updated == (
        "# Benchmarks\n\nBefore.\n\n<!-- results:start -->\n| new |\n"
        "<!-- results:end -->\n\nAfter.\n"
    )
    assert report.replace_section(updated, "results", "| new |") == updated


def test_replace_section_appends_a_missing_section():
    updated = report.replace_section("Prose.\n", "scaling", "table")
    assert updated == (
        "Prose.\n\n<!-- scaling:start -->\ntable\n<!-- scaling:end -->\n"
    )


def test_replace_section_rejects_an_unclosed_section():
    with pytest.raises(ValueError, match="results:end"):
        report.replace_section("<!-- results:start -->\n", "results", "x")


def test_write_section_rewrites_only_its_section(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("Intro.\n\n<!-- a:start -->\n<!-- a:end -->\n\nEnd.\n")
    report.write_section(str(path), "a", report.table(["x", "y"], [[1, 2]]))
    assert path.read_text() == (
        "Intro.\n\n<!-- a:start -->\n| x | y |\n| --- | --- |\n| 1 | 2 |\n"
        "<!-- a:end -->\n\nEnd.\n"
    )
