"""The visitor's browser and operating system, read from the User-Agent, for the agent's eye only.

A dozen patterns instead of a dependency: agents need "Chrome 131 on Windows", not device
models, and a wrong guess costs nothing (the raw string is shown on hover). ua-parser's
regexes.yaml (thousands of rules, updated monthly) would be right for analytics, which this
is not. Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari"."""

from __future__ import annotations

import re

BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"(?:OPR|Opera)/(\d+)"),
    ("Samsung Internet", r"SamsungBrowser/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* (?:Mobile/\S+ )?Safari/"),
)
SYSTEMS = (
    ("iOS", r"\((?:iPhone|iPad|iPod)"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux"),
)


def parse(user_agent: str) -> tuple[str, str]:
    """(browser with its major version, operating system); "" where nothing matched."""
    user_agent = user_agent or ""
    browser = next((f"{name} {m.group(1)}" for name, pattern in BROWSERS
                    if (m := re.search(pattern, user_agent))), "")
    system = next((name for name, pattern in SYSTEMS if re.search(pattern, user_agent)), "")
    return browser, system
