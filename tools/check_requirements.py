"""Exit 0 when every requirement of the given file is installed at a matching
version, so that `make setup` does not call pip on a second run."""

import sys
from importlib import metadata

from packaging.requirements import Requirement


def main(path):
    with open(path, encoding="utf-8") as requirements:
        for line in requirements:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            requirement = Requirement(line)
            try:
                version = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                return 1
            if not requirement.specifier.contains(version, prereleases=True):
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
