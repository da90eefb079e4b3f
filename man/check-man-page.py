#!/usr/bin/python3
"""check-man-page.py --page PAGE.gz --title NAME.SECTION [--ignore OPTION]... -- BINARY --help

A manual page and its binary's --help, compared so they cannot drift apart:

* every option --help names (--NAME, with =ARG where it shows one: `--user=NAME`, or
  `[--device=IF]...` in a command's synopsis) appears on the rendered page, with the same
  argument;
* every option the page's OPTIONS and COMMANDS sections name is one --help names (other
  sections may name other programs' options);
* the commands --help lists under its "Commands:" heading (each entry's first word, on a
  line indented two columns) are the commands the page's COMMANDS section describes (the
  first word of each of its tags), both ways; a binary without commands has neither that
  heading nor that section;
* the page's title line is NAME(SECTION).

The page is rendered by groff as man(1) would, in ASCII on very long lines without
hyphenation, so that an option is one word wherever it stands. --ignore drops an option
of --help that only test builds have. Prints every difference; exits 1 if there is one."""

import argparse
import gzip
import re
import subprocess
import sys

# --name, and =ARG up to the next blank.
OPTION = re.compile(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)(=\S+)?")
HEADING = re.compile(r"^[A-Z][A-Z0-9 ]*$")
# An entry of --help's command list, and a tag of the page's COMMANDS section as groff
# renders a .TP: at the section's indent (7 columns) after a blank line.
HELP_COMMAND = re.compile(r"^  ([a-z][a-z0-9-]*)(?=\s|$)")
PAGE_COMMAND = re.compile(r"^ {7}([a-z][a-z0-9-]*)(?=\s|$)")


def trim_argument(arg):
    """An argument as a synopsis shows it, without what closes a bracket opened before the
    option: `IF]...` of `[--device=IF]...` is IF; `UID[-UID]=SOURCE` stays whole."""
    depth = 0
    for i, c in enumerate(arg):
        if c in "[(":
            depth += 1
        elif c in "])":
            if depth == 0:
                return arg[:i]
            depth -= 1
    return arg


def options(text):
    """{name: {argument or None, ...}} of every option named in text."""
    found = {}
    for m in OPTION.finditer(text):
        arg = trim_argument(m.group(2)[1:]) if m.group(2) else None
        found.setdefault(m.group(1), set()).add(arg or None)
    return found


def help_commands(text):
    """[name] of the commands --help lists: the entries of the lines under "Commands:" up
    to the next blank line; None if --help has no such heading."""
    lines = text.splitlines()
    if "Commands:" not in lines:
        return None
    found = []
    for line in lines[lines.index("Commands:") + 1:]:
        if not line.strip():
            break
        m = HELP_COMMAND.match(line)
        if m:
            found.append(m.group(1))
    return found


def page_commands(body):
    """[name] of the commands a rendered COMMANDS section describes: the first word of each
    tag, a line at the section's indent that follows a blank line."""
    found, after_blank = [], True
    for line in body.splitlines():
        m = PAGE_COMMAND.match(line)
        if m and after_blank:
            found.append(m.group(1))
        after_blank = not line.strip()
    return found


def render(page):
    """The page as plain text, one line per output line."""
    with gzip.open(page, "rb") if page.endswith(".gz") else open(page, "rb") as f:
        roff = f.read()
    out = subprocess.run(["groff", "-man", "-Tascii", "-rLL=250n", "-rHY=0", "-P-cbou"],
                         input=roff, capture_output=True, check=True)
    return out.stdout.decode("ascii", errors="replace")


def sections(text):
    """{heading: body} of the rendered page."""
    found, name = {}, None
    for line in text.splitlines():
        if HEADING.match(line):
            name = line.strip()
            found[name] = []
        elif name:
            found[name].append(line)
    return {k: "\n".join(v) for k, v in found.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--page", required=True)
    ap.add_argument("--title", required=True, help="NAME.SECTION")
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()

    run = subprocess.run(args.command, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        print(f"{' '.join(args.command)} exited with {run.returncode}:\n{run.stderr}")
        return 1
    helped = options(run.stdout)
    # The binary understood --help, whether its text names it or not.
    helped.setdefault("help", {None})
    for name in args.ignore:
        helped.pop(name, None)
    text = render(args.page)
    page = options(text)
    listed = sections(text)
    listed_options = options(listed.get("OPTIONS", "") + "\n" + listed.get("COMMANDS", ""))

    name, section = args.title.rsplit(".", 1)
    title = f"{name}({section})"
    problems = []
    if not text.lstrip().startswith(title):
        problems.append(f"the page's title is not {title}: {text.lstrip().splitlines()[0]!r}")
    if "OPTIONS" not in listed:
        problems.append("the page has no OPTIONS section")
    for opt, helped_args in sorted(helped.items()):
        for arg in sorted(helped_args, key=str):
            shown = f"--{opt}" + (f"={arg}" if arg else "")
            if opt not in page or (arg and arg not in page[opt]):
                problems.append(f"--help lists {shown}; the page does not")
    for opt in sorted(set(listed_options) - set(helped)):
        problems.append(f"the page lists --{opt}; --help does not"
                        + (" (left out with --ignore)" if opt in args.ignore else ""))

    helped_commands = help_commands(run.stdout)
    if helped_commands is not None and "COMMANDS" not in listed:
        problems.append("--help lists commands; the page has no COMMANDS section")
    elif helped_commands is None and "COMMANDS" in listed:
        problems.append("the page has a COMMANDS section; --help lists no commands")
    page_cmds = page_commands(listed.get("COMMANDS", ""))
    for cmd in helped_commands or []:
        if cmd not in page_cmds:
            problems.append(f"--help lists the command {cmd}; the page's COMMANDS does not")
    for cmd in page_cmds:
        if cmd not in (helped_commands or []):
            problems.append(f"the page's COMMANDS lists the command {cmd}; --help does not")
    if helped_commands is not None and not helped_commands:
        problems.append("--help has a Commands: heading and no command under it")

    if problems:
        print(f"{title} and `{' '.join(args.command)}` differ:")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"{title}: {len(helped)} options, each on the page; the page lists no other")
    if helped_commands:
        print(f"{title}: its COMMANDS describes the {len(helped_commands)} commands of --help "
              "and no other")
    return 0


if __name__ == "__main__":
    sys.exit(main())
