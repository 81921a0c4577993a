"""Every long option a command accepts appears in its `hret help <command>` text.

The options are read from the getopt tables of the sources (worker/cli/hret_cmd_<command>.c and
hret_cmd_<command>_<part>.c, plus worker/roles/hret_role.c for the commands that open a role), so an option added later
without a help line fails here. Usage: help_options.py SOURCE_DIR HRET_BINARY
"""
import pathlib
import re
import subprocess
import sys

OPTION = re.compile(r'\{\s*"([a-z0-9][a-z0-9-]*)"\s*,\s*(?:no|required|optional)_argument')


def options(path):
    return set(OPTION.findall(path.read_text(encoding="utf-8")))


def main():
    src, hret = pathlib.Path(sys.argv[1]), sys.argv[2]
    role = options(src / "worker/roles/hret_role.c")
    missing, commands = [], 0
    tables = {}  # a command's options may sit in a file of its own: hret_cmd_<command>_<part>.c
    for path in sorted((src / "worker/cli").glob("hret_cmd_*.c")):
        command = path.stem[len("hret_cmd_"):].split("_")[0]
        text = path.read_text(encoding="utf-8")
        found = options(path) | (role if "hret_role_open(" in text else set())
        tables.setdefault(command, [set(), []])
        tables[command][0] |= found
        tables[command][1].append(path.name)
    for command, (accepted, names) in sorted(tables.items()):
        path = pathlib.Path(" + ".join(names))
        accepted.discard("help")  # every command takes --help (hret_cli.c)
        if not accepted:
            continue
        commands += 1
        help_text = subprocess.run([hret, "help", command], check=True, capture_output=True,
                                   text=True).stdout
        for opt in sorted(accepted):
            if not re.search(r"--" + re.escape(opt) + r"(?![a-z0-9-])", help_text):
                missing.append(f"hret help {command} lacks --{opt} ({path.name} accepts it)")
    for line in missing:
        print("FAIL:", line, file=sys.stderr)
    if commands < 10:
        print(f"FAIL: only {commands} commands with option tables found", file=sys.stderr)
        return 1
    print(f"help_options: every option of {commands} commands is in its help"
          if not missing else f"{len(missing)} options missing from help")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
