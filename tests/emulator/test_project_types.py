"""How each project type identifies users (rules identity-*)."""

from __future__ import annotations

from iterable_emulator.identity import ProjectType
from iterable_emulator.store import Store


def _project(store: Store, project_type: ProjectType) -> Store:
    store.settings.project_type = project_type
    return store


def test_userid_project_identifies_by_userid_only(store: Store) -> None:
    """rule identity-userid-project: "How to identify users in API requests: userId" and
    email uniqueness is not enforced [support article 9216719179796]: an email never finds
    or renames a user."""
    users = _project(store, ProjectType.USER_ID).users
    users.bulk_update([{"userId": "u1", "email": "a@example.com"}])
    outcome = users.bulk_update(
        [
            {"email": "a@example.com", "dataFields": {"x": 1}},  # email alone: not found
            {"userId": "u2", "email": "a@example.com"},  # same email, another user
            {"userId": "u1", "email": "b@example.com"},  # the email is data on u1
        ]
    )
    assert outcome.failed("notFoundEmails") == ["a@example.com"]
    assert outcome.success_count == 2
    first, second = users.find(user_id="u1"), users.find(user_id="u2")
    assert first is not None
    assert first.email == "b@example.com"
    assert second is not None
    assert second.email == "a@example.com"
    assert first.data_fields == {}


def test_userid_project_events_need_a_userid(store: Store) -> None:
    """rules identity-userid-project and events-need-users."""
    _project(store, ProjectType.USER_ID).users.bulk_update([{"userId": "u1", "email": "a@x.io"}])
    outcome = store.events.track_bulk(
        [{"eventName": "e", "email": "a@x.io"}, {"eventName": "e", "userId": "u1"}]
    )
    assert outcome.failed("notFoundEmails") == ["a@x.io"]
    assert outcome.success_count == 1


def test_email_project_prioritises_email_and_overwrites_the_userid(store: Store) -> None:
    """rule identity-email-project: "If both fields are present, email is prioritized ...
    and the userId field is updated/overwritten" [support article 29156459027348]; userId
    uniqueness is not enforced [support article 9216719179796], so no conflictUserIds."""
    users = _project(store, ProjectType.EMAIL).users
    users.bulk_update([{"email": "a@x.io", "userId": "u1"}, {"email": "b@x.io", "userId": "u2"}])
    outcome = users.bulk_update([{"email": "b@x.io", "userId": "u1"}])
    assert outcome.success_count == 1
    assert outcome.failed("conflictUserIds") == []
    holder = users.find(user_id="u1")  # the first profile holding it
    assert holder is not None
    assert holder.email == "a@x.io"
    moved = users.find(email="b@x.io")
    assert moved is not None
    assert moved.user_id == "u1"


def test_email_project_unknown_userid_alone_needs_prefer_user_id(store: Store) -> None:
    """rule prefer-user-id [support article 29156459027348; spec preferUserId]."""
    users = _project(store, ProjectType.EMAIL).users
    outcome = users.bulk_update([{"userId": "u9"}])
    assert outcome.failed("notFoundUserIds") == ["u9"]
    users.bulk_update([{"userId": "u9", "preferUserId": True}])
    created = users.find(user_id="u9")
    assert created is not None
    assert created.email == "u9@placeholder.email"


def test_hybrid_project_holds_both_identifiers_unique(store: Store) -> None:
    """rule identity-hybrid: both fields enforced unique [support article 9216719179796]."""
    users = _project(store, ProjectType.HYBRID).users
    users.bulk_update([{"email": "a@x.io", "userId": "u1"}])
    outcome = users.bulk_update([{"email": "b@x.io", "userId": "u1"}])
    assert outcome.failed("conflictUserIds") == ["u1"]
    assert users.find(email="b@x.io") is None
