"""What the tests of every app share: factories and fixtures (registered in the root conftest).
Test code only; nothing under the apps imports it."""
