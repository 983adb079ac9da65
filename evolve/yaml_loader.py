"""The YAML loaders of the data files (event files and tables' sources sidecars).

libyaml's parser is used where PyYAML was built with it (its wheels are): parsing in Python was a
third of the time to read the curated history. The safe constructor and the resolver are the same.
"""

from __future__ import annotations

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class EventFileLoader(SafeLoader):  # type: ignore[misc,valid-type]  # the base is chosen at import time
    """YAML without implicit timestamps: dates stay text so msgspec checks them
    (pyyaml would raise a bare ValueError for 2017-02-30)."""


EventFileLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
