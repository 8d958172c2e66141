"""Lists and subscriptions."""

from __future__ import annotations

from iterable_emulator.testing import EmulatorProcess

from .helpers import bulk_update


def _create_list(emulator: EmulatorProcess, name: str) -> int:
    list_id: int = emulator.api("POST", "/api/lists", json={"name": name}).json()["listId"]
    return list_id


def test_subscribing_to_an_unknown_list_is_400_with_code_success(
    emulator: EmulatorProcess,
) -> None:
    response = emulator.api(
        "POST",
        "/api/lists/subscribe",
        json={"listId": 999, "subscribers": [{"email": "a@example.com"}]},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "Success"
    assert response.json()["msg"] == "error.lists.invalidListId(999)"


def test_subscribe_and_unsubscribe(emulator: EmulatorProcess) -> None:
    list_id = _create_list(emulator, "newsletter")
    assert emulator.api("GET", "/api/lists").json()["lists"][0]["name"] == "newsletter"
    subscribed = emulator.api(
        "POST",
        "/api/lists/subscribe",
        json={
            "listId": list_id,
            "subscribers": [
                {"email": "a@example.com", "dataFields": {"src": "web"}},
                {"email": "x"},
            ],
        },
    )
    assert subscribed.json()["successCount"] == 1
    assert subscribed.json()["failedUpdates"]["invalidEmails"] == ["x"]
    profile = emulator.user_by_email("a@example.com")
    assert profile is not None
    assert profile["dataFields"] == {"src": "web", "emailListIds": [list_id]}

    unsubscribed = emulator.api(
        "POST",
        "/api/lists/unsubscribe",
        json={
            "listId": list_id,
            "subscribers": [{"email": "a@example.com"}, {"email": "nobody@example.com"}],
        },
    )
    assert unsubscribed.json()["failedUpdates"]["notFoundEmails"] == ["nobody@example.com"]
    profile = emulator.user_by_email("a@example.com")
    assert profile is not None
    assert profile["dataFields"]["emailListIds"] == []


def test_update_existing_users_only_does_not_create_users(emulator: EmulatorProcess) -> None:
    list_id = _create_list(emulator, "l")
    response = emulator.api(
        "POST",
        "/api/lists/subscribe",
        json={
            "listId": list_id,
            "subscribers": [{"email": "new@example.com"}],
            "updateExistingUsersOnly": True,
        },
    )
    assert response.json()["failedUpdates"]["notFoundEmails"] == ["new@example.com"]
    assert emulator.summary()["users"] == 0


def test_bulk_update_subscriptions_overwrites_the_fields_sent(emulator: EmulatorProcess) -> None:
    bulk_update(emulator, {"email": "a@example.com", "dataFields": {"emailListIds": [1, 2]}})
    response = emulator.api(
        "POST",
        "/api/users/bulkUpdateSubscriptions",
        json={
            "updateSubscriptionsRequests": [
                {"email": "a@example.com", "emailListIds": [3], "unsubscribedChannelIds": [7]},
                {"email": "bad-email"},
            ]
        },
    )
    assert response.json() == {
        "successCount": 1,
        "failCount": 1,
        "invalidEmails": ["bad-email"],
        "invalidUserIds": [],
        "validEmailFailures": [],
        "validUserIdFailures": [],
    }
    profile = emulator.user_by_email("a@example.com")
    assert profile is not None
    assert profile["dataFields"] == {"emailListIds": [3], "unsubscribedChannelIds": [7]}
