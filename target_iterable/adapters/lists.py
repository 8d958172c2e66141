"""``list-<listId>`` streams → POST /api/lists/subscribe and /unsubscribe, in batches."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from target_iterable.adapters.base import ObjectAdapter, StreamSpec, person_identity, person_key
from target_iterable.delivery.batching import Envelope
from target_iterable.delivery.context import USER_TYPE_SCOPE, DeliveryContext
from target_iterable.delivery.prepared import PreparedRecord
from target_iterable.encoding import encode_faithfully
from target_iterable.errors import ConfigurationError
from target_iterable.iterable.client import ApiResponse
from target_iterable.iterable.limits import LISTS
from target_iterable.mapping.lists import SUBSCRIBE, UNSUBSCRIBE, list_member
from target_iterable.settings import Settings

LIST_STREAM_PREFIX = "list-"


def _flag(value: bool) -> str:
    return "true" if value else "false"


class ListAdapter(ObjectAdapter):
    """Adds members to a static list, and removes the deleted or unsubscribed ones."""

    kind = "lists"
    endpoint = LISTS
    ordered_per_user = True
    supports_mirror = True

    def __init__(self, stream: StreamSpec, context: DeliveryContext) -> None:
        super().__init__(stream, context)
        self.list_id = int(stream.name[len(LIST_STREAM_PREFIX) :])
        opening = f'{{"listId":{self.list_id},"subscribers":['.encode()
        self._envelopes = {
            SUBSCRIBE: Envelope(
                opening,
                f'],"updateExistingUsersOnly":{_flag(self.options.update_existing_users_only)}}}'.encode(),
            ),
            UNSUBSCRIBE: Envelope(
                opening,
                f'],"channelUnsubscribe":{_flag(self.options.channel_unsubscribe)}}}'.encode(),
            ),
        }

    def items_per_request(self, settings: Settings) -> int:
        return settings.users_batch_size

    def setup(self) -> None:
        self.context.read_user_field_types()  # members carry user dataFields

    def envelope_for(self, route: str) -> Envelope:
        return self._envelopes[route]

    def prepare(self, record: Mapping[str, Any]) -> PreparedRecord:
        route, member = list_member(record, self.converters)
        return PreparedRecord.of_person_payload([encode_faithfully(record)], member, route)

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def natural_key(self, record: Mapping[str, Any]) -> str | None:
        return person_key(record, self.project_type)

    def identity(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        return person_identity(record, self.project_type)

    def removal(self, identity: Mapping[str, Any]) -> PreparedRecord | None:
        """A member gone from a mirror stream is unsubscribed from the list."""
        return PreparedRecord.of_person_payload(
            [encode_faithfully(identity)], dict(identity), UNSUBSCRIBE
        )

    def post(self, body: bytes, route: str) -> ApiResponse:
        if route == SUBSCRIBE:
            return self.client.subscribe_to_list(body)
        return self.client.unsubscribe_from_list(body)

    def check_refusal(self, response: ApiResponse) -> None:
        """An unknown list fails the run: no record of it can ever be delivered.

        Iterable answers HTTP 400 with code ``Success`` and the message
        ``error.lists.invalidListId`` (as recorded from the real service), so the
        message is what tells.
        """
        if "invalidListId" in response.msg:
            raise ConfigurationError(
                f"stream '{self.stream.name}': Iterable has no list {self.list_id} "
                f"(HTTP {response.status}: {response.msg}); create the list in Iterable or "
                "rename the stream to list-<an existing list id>"
            )
