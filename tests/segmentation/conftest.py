"""Segmentation tests start from the seeded defaults (model v1 and the playbook), which a
transactional test elsewhere may have flushed away."""

import importlib

import pytest

from segmentation.models import PlaybookEntry, ScoringModel

defaults = importlib.import_module("segmentation.migrations.0002_default_model_and_playbook")


@pytest.fixture(autouse=True)
def scoring_defaults(request):
    if "django_db" not in request.keywords and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db") if not _transactional(request) else None
    if not ScoringModel.objects.exists():
        ScoringModel.objects.create(version=1, is_active=True, note="Defaults of the brief")
    if not PlaybookEntry.objects.exists():
        PlaybookEntry.objects.bulk_create(
            PlaybookEntry(quadrant=quadrant, value_tier=tier, action=action, position=position)
            for position, (quadrant, tier, action) in enumerate(defaults.PLAYBOOK)
        )


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))
