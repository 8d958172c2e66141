"""Commerce: purchases empty the cart, updateCart replaces it."""

from __future__ import annotations

from iterable_emulator.testing import EmulatorProcess

MUG = {"id": "mug", "name": "Mug", "price": 5.0, "quantity": 1}
TEA = {"id": "tea", "name": "Tea", "price": 3.5, "quantity": 2}


def test_update_cart_replaces_the_cart_and_creates_the_user(emulator: EmulatorProcess) -> None:
    user = {"email": "a@example.com"}
    emulator.api("POST", "/api/commerce/updateCart", json={"user": user, "items": [MUG]})
    response = emulator.api("POST", "/api/commerce/updateCart", json={"user": user, "items": [TEA]})
    assert response.status_code == 200
    profile = emulator.user_by_email("a@example.com")
    assert profile is not None
    assert profile["dataFields"]["shoppingCartItems"] == [TEA]


def test_track_purchase_records_it_and_clears_the_cart(emulator: EmulatorProcess) -> None:
    user = {"email": "a@example.com", "dataFields": {"tier": "gold"}}
    emulator.api("POST", "/api/commerce/updateCart", json={"user": user, "items": [MUG]})
    response = emulator.api(
        "POST",
        "/api/commerce/trackPurchase",
        json={"id": "p1", "user": user, "items": [MUG], "total": 5.0, "createdAt": 10},
    )
    assert response.status_code == 200
    assert response.json()["params"] == {"id": "p1"}
    profile = emulator.user_by_email("a@example.com")
    assert profile is not None
    assert profile["dataFields"] == {"tier": "gold"}
    [purchase] = emulator.events_for(email="a@example.com")
    assert purchase["eventType"] == "purchase"
    assert (purchase["total"], purchase["shoppingCartItems"]) == (5.0, [MUG])


def test_commerce_items_need_id_name_price_and_quantity(emulator: EmulatorProcess) -> None:
    no_price = {key: value for key, value in MUG.items() if key != "price"}
    response = emulator.api(
        "POST",
        "/api/commerce/updateCart",
        json={"user": {"email": "a@example.com"}, "items": [no_price]},
    )
    assert response.status_code == 400
    assert response.json()["msg"] == "items[0]: 'price' is a required property"
