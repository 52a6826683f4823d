from pathlib import Path

import pytest

from analytics import catalogue

REQUIRED = {
    "video_play": catalogue.SERVER,
    "video_complete": catalogue.SERVER,
    "content_added": catalogue.SERVER,
    "content_published": catalogue.SERVER,
    "chat_message_sent": catalogue.SERVER,
    "my_list_added": catalogue.SERVER,
    "signed_up": catalogue.SERVER,
    "subscription_changed": catalogue.SERVER,
}


def test_catalogue_has_every_product_event_with_who_sends_it():
    for name, source in REQUIRED.items():
        assert catalogue.EVENTS[name].source == source
    clients = [s.name for s in catalogue.EVENTS.values() if s.source == catalogue.CLIENT]
    assert {"page_view", "video_pause", "video_seek", "video_share"} <= set(clients)


def test_docs_list_every_event_of_the_catalogue():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "analytics.md").read_text()
    for spec in catalogue.EVENTS.values():
        assert f"| `{spec.name}` | {spec.source} |" in doc, spec.name


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (catalogue.STRING, "x", [1, None, "x" * 501, ["x"]]),
        (catalogue.INTEGER, 3, [3.5, "3", True]),
        (catalogue.NUMBER, 3.5, ["3.5", False, None]),
        (catalogue.BOOLEAN, False, [0, "false"]),
        (catalogue.STRING_LIST, ["a", "b"], ["a", [1], ["x"] * 51]),
    ],
)
def test_property_types(kind, good, bad):
    spec = catalogue.EventSpec("e", catalogue.CLIENT, "", {"p": catalogue.Prop(kind)})
    assert catalogue.property_errors(spec, {"p": good}) == {}
    for value in bad:
        problems = catalogue.property_errors(spec, {"p": value})
        expected = "missing_property" if value is None else "wrong_type"
        assert problems["p"][0]["code"] == expected, value
