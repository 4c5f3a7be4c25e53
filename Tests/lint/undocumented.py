#!/usr/bin/env python3
"""Public symbols without a doc comment, per module (issue 24: every public symbol of the upper
modules is documented).

    python3 Tests/lint/undocumented.py [--list] [--require-none] Sources/CleaveNeural …

A declaration counts when its line starts (after attributes) with `public` or `open` and is not an
extension or an import; it is documented when the line above it (skipping attribute lines) is a
`///` comment or ends a `/** … */` block. `--list` names every undocumented declaration;
`--require-none` exits 1 when any module has one (CI runs it on the modules that are done).
"""
import os
import re
import sys

DECLARATION = re.compile(r"(@\w+(\([^)]*\))?\s+)*(public|open)\s")


def undocumented(root):
    total, missing = 0, []
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(folder, name)
            lines = open(path, encoding="utf-8").read().split("\n")
            for i, line in enumerate(lines):
                text = line.strip()
                if not DECLARATION.match(text) or text.startswith("public import") or " extension " in f" {text.split('{')[0]}":
                    continue
                total += 1
                j = i - 1
                while j >= 0 and lines[j].strip().startswith("@"):
                    j -= 1
                above = lines[j].strip() if j >= 0 else ""
                if not (above.startswith("///") or above.endswith("*/")):
                    missing.append(f"{path}:{i + 1}: {text[:100]}")
    return total, missing


def main():
    roots = [a for a in sys.argv[1:] if not a.startswith("--")]
    failed = False
    for root in roots:
        if not os.path.isdir(root):
            print(f"undocumented: no folder {root}")
            return 2
        total, missing = undocumented(root)
        share = 100 * len(missing) / max(total, 1)
        print(f"undocumented: {root}: {len(missing)} of {total} public symbols without a doc comment ({share:.0f} %)")
        if "--list" in sys.argv or "--require-none" in sys.argv:
            for entry in missing:
                print(f"  {entry}")
        failed = failed or bool(missing)
    return 1 if failed and "--require-none" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
