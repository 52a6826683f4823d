"""`analytics.events` and the catalogue's server events stay in step, and each function queues an
event the catalogue accepts."""

import inspect
from datetime import datetime

import pytest
from django.utils import timezone

from analytics import catalogue, events
from analytics.models import OutboxEvent
from analytics.services import intake

SERVER_EVENTS = {name: spec for name, spec in catalogue.EVENTS.items() if spec.source == catalogue.SERVER}
SAMPLE = {
    catalogue.STRING: "email",
    catalogue.INTEGER: 7,
    catalogue.NUMBER: 12.5,
    catalogue.BOOLEAN: True,
    catalogue.STRING_LIST: ["nba", "final"],
}


def event_functions() -> dict:
    return {
        name: function
        for name, function in inspect.getmembers(events, inspect.isfunction)
        if function.__module__ == events.__name__ and not name.startswith("_")
    }


def test_every_server_event_has_exactly_one_function_and_every_function_an_event():
    assert set(event_functions()) == set(SERVER_EVENTS)


@pytest.mark.parametrize("name", sorted(SERVER_EVENTS))
def test_a_function_takes_the_event_s_properties_as_keyword_arguments(name):
    spec = SERVER_EVENTS[name]
    parameters = inspect.signature(event_functions()[name]).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    expected = {"user_id", *spec.properties}
    assert set(parameters) - {"timestamp"} == expected
    for prop_name, prop in spec.properties.items():
        if prop.required:
            assert parameters[prop_name].default is inspect.Parameter.empty, prop_name
    assert parameters["user_id"].default is inspect.Parameter.empty
    if "timestamp" in parameters:
        assert parameters["timestamp"].default is inspect.Parameter.empty


def valid_arguments(name: str) -> dict:
    spec = SERVER_EVENTS[name]
    arguments = {prop_name: SAMPLE[prop.type] for prop_name, prop in spec.properties.items()}
    arguments["user_id"] = 42
    if "timestamp" in inspect.signature(event_functions()[name]).parameters:
        arguments["timestamp"] = timezone.now()
    return arguments


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SERVER_EVENTS))
def test_calling_a_function_queues_one_event_the_catalogue_accepts(name, outbox_held):
    arguments = valid_arguments(name)
    OutboxEvent.objects.all().delete()

    event_functions()[name](**arguments)

    (row,) = OutboxEvent.objects.all()
    assert row.name == name
    assert row.distinct_id == "42"
    assert catalogue.property_errors(SERVER_EVENTS[name], row.properties) == {}
    if isinstance(arguments.get("timestamp"), datetime):
        assert row.timestamp == arguments["timestamp"]


@pytest.mark.django_db
def test_a_misspelt_event_or_a_missing_required_property_fails():
    with pytest.raises(AttributeError):
        events.signed_upp(user_id=1, method="email")
    with pytest.raises(TypeError):
        events.signed_up(user_id=1)
    with pytest.raises(ValueError):
        intake.server_event_record(name="signed_upp", distinct_id=1, properties={"method": "email"})
    with pytest.raises(ValueError):
        intake.server_event_record(name="signed_up", distinct_id=1, properties={})
    assert not OutboxEvent.objects.exists()
