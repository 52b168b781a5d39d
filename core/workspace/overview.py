"""The Overview's and presenter mode's words for the scenarios, worded from the registry.

Scenarios are found, not listed (``core.store.scenario_registry``): an extension package named in
``STUDIO_SCENARIOS`` adds a fifth, and not every scenario has a demo. So the texts that count or name them
("Five scenarios: ...", "Run all four demos") are built here from what was found, never written out.
"""

from __future__ import annotations

from core.store.scenarios import SCENARIOS

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def count_word(n: int) -> str:
    """"four" for 4 (up to twelve in words), "13" beyond."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else f"{n:,}"


def _in_sentence(title: str) -> str:
    """"Credit scoring" inside a sentence as "credit scoring"; a title starting with an acronym ("ATM fraud") stays."""
    return title if title[:2].isupper() else title[:1].lower() + title[1:]


def join_names(names) -> str:
    """"a", "a and b", "a, b and c"."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] if names else ""


def demo_keys() -> list[str]:
    """The scenarios that have a demo (their ``demo`` hook), in the registry's order."""
    from core.workspace.demos import DEMOS

    return list(DEMOS)


def scenarios_sentence() -> str:
    """"Four scenarios: credit scoring, fraud detection, demand forecasting and quality inspection." (every
    scenario the Overview shows, an extension package's too)."""
    titles = [_in_sentence(spec.title) for spec in SCENARIOS.values()]
    n = count_word(len(titles))
    return f"{n[:1].upper() + n[1:]} scenario{'' if len(titles) == 1 else 's'}: {join_names(titles)}."


def run_demos_label(*, again: bool = False) -> str:
    """The demo button's label: "Run all four demos", "Run both demos", "Run the demo" (+ " again")."""
    n = len(demo_keys())
    label = "Run the demo" if n == 1 else "Run both demos" if n == 2 else f"Run all {count_word(n)} demos"
    return label + (" again" if again else "")


def demos_scope() -> str:
    """Which scenarios the demo button trains: "every scenario", or those with a demo, by name, when an
    extension package brings one without."""
    keys = demo_keys()
    if len(keys) == len(SCENARIOS):
        return "every scenario"
    titles = [_in_sentence(SCENARIOS[k].title) for k in keys if k in SCENARIOS]
    return f"each scenario with a demo ({join_names(titles)})"


def demo_runs_phrase() -> str:
    """"the four demo runs" (what presenter mode walks)."""
    n = len(demo_keys())
    return "the demo run" if n == 1 else f"the {count_word(n)} demo runs"
