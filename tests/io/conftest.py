"""The four hand-worked leads that the load_leads and value-parsing tests share."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def tiny():
    """Four leads worked out by hand in test_tiny_case_by_hand."""
    return pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "title": ["VP", "VP", "CEO", None],
            "clicks": [1, 0, 3, 2],
            "vip": ["yes", "no", "no", "no"],
            "plan": ["free", "free", "free", "free"],
            "won": ["yes", "no", "no", "yes"],
        }
    )
