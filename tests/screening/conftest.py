"""Fixtures for the rulebook tests: the shipped calendar and the default settings."""

from __future__ import annotations

import pytest

from screening import RulebookConfig, WorkCalendar


@pytest.fixture(scope="session")
def calendar() -> WorkCalendar:
    return WorkCalendar.load(None)


@pytest.fixture(scope="session")
def config() -> RulebookConfig:
    return RulebookConfig()
