"""The commands the README, the developers' notes, the model cards and the model recipe give name only subcommands and
options the two parsers have: an option renamed in the code and not in the text would send a reader (or the recipe,
run rarely, on a lent GPU) into an error."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from desktop.cli.arguments import build_parser as app_parser
from trainer.__main__ import build_parser as trainer_parser

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [ROOT / "README.md", ROOT / "DEVELOPERS.md", ROOT / "packaging" / "README.md", *sorted(ROOT.glob("models/*.md")),
         *sorted(ROOT.glob("recipes/*/*.sh"))]

# `genre-tagger [global options] SUBCOMMAND rest` or `python -m trainer SUBCOMMAND rest`, to the end of the line or of
# the inline code; "genre-tagger-gui" is the window's own command.
COMMAND = re.compile(r"(-m trainer|genre-tagger(?![-\w]))((?:\s+--?[\w-]+(?:[ =](?!-)[^\s`]+)?)*)\s+([a-z][\w-]*)([^`\n]*)")
# Where a shell command ends before its line does: a redirect, a pipe, a list, a comment, a subshell.
COMMAND_END = re.compile(r"\s[>|;]|\s#|\s\(|&&|\|\||\s2>")
OPTION = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")


def options_of(parser: argparse.ArgumentParser) -> tuple[set[str], dict[str, set[str]]]:
    """A parser's own options, and each subcommand's."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(parser._option_string_actions), {name: set(p._option_string_actions) for name, p in sub.choices.items()}


PARSERS = {"-m trainer": options_of(trainer_parser()), "genre-tagger": options_of(app_parser())}


def unknown_options(text: str) -> list[str]:
    """Each `tool subcommand --option` in a text whose option the subcommand lacks (continued lines joined)."""
    found = []
    for match in COMMAND.finditer(text.replace("\\\n", " ")):
        tool, before, name, rest = match.groups()
        own, subcommands = PARSERS[tool]
        if name not in subcommands:  # prose ("genre-tagger is…"), not a command
            continue
        rest = COMMAND_END.split(rest)[0]
        found += [f"{tool} {name} {option}" for option in OPTION.findall(f"{before} {rest}")
                  if option not in subcommands[name] and option not in own]
    return found


def code_of(path: Path) -> list[str]:
    """What a text gives as commands: a script whole, a Markdown file's fenced blocks and `inline code`."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".md":
        return [text]
    return re.findall(r"```[\w-]*\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text)


def unknown_subcommands(code: str) -> list[str]:
    """Each `tool word` in code whose word is no subcommand of the tool (in prose it may be an ordinary word)."""
    return [f"{m.group(1)} {m.group(3)}" for m in COMMAND.finditer(code.replace("\\\n", " "))
            if m.group(3) not in PARSERS[m.group(1)][1]]


def test_a_command_naming_an_option_its_parser_lacks_is_found():
    text = ("```sh\ngenre-tagger scan ~/Music --wirte   # typo\n```\n"
            "and `python -m trainer distill --targets T \\\n  --epoks 3`, but `genre-tagger --json list --genre Jazz`")
    assert unknown_options(text) == ["genre-tagger scan --wirte", "-m trainer distill --epoks"]


def test_a_command_naming_a_subcommand_its_tool_lacks_is_found(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("genre-tagger learns your genres:\n```sh\ngenre-tagger lern --min-tracks 3\n```\n"
                   "then `python -m trainer distil --epochs 3`, or `genre-tagger --json genres`", encoding="utf-8")
    assert [word for code in code_of(doc) for word in unknown_subcommands(code)] == [
        "genre-tagger lern", "-m trainer distil"]


def test_the_commands_checked_are_found_in_the_texts():
    # the pattern reads the texts at all: the README alone gives dozens of commands
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [m for m in COMMAND.finditer(readme) if m.group(3) in PARSERS[m.group(1)][1]]
    assert len(commands) > 40


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_name_only_options_their_parsers_have(path):
    assert unknown_options(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_name_only_subcommands_their_tools_have(path):
    assert [word for code in code_of(path) for word in unknown_subcommands(code)] == []
