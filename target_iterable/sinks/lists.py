"""``list-<listId>`` streams → POST /api/lists/subscribe and /unsubscribe, in batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from target_iterable.batching import Envelope
from target_iterable.client import LISTS, ApiResponse
from target_iterable.encoding import encode_faithfully
from target_iterable.errors import ConfigurationError
from target_iterable.mapping.lists import SUBSCRIBE, list_member
from target_iterable.sinks.base import IterableSink, PreparedRecord
from target_iterable.sinks.users import USER_TYPE_SCOPE

LIST_STREAM_PREFIX = "list-"


class ListSink(IterableSink):
    """Adds members to a static list, and removes the deleted or unsubscribed ones."""

    batch_size_setting = "users_batch_size"
    endpoint = LISTS
    ordered_per_user = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.list_id = int(self.stream_name[len(LIST_STREAM_PREFIX) :])
        existing_only = "true" if self.options.get("update_existing_users_only") else "false"
        channel = "true" if self.options.get("channel_unsubscribe") else "false"
        self._envelopes = {
            SUBSCRIBE: Envelope(
                f'{{"listId":{self.list_id},"subscribers":['.encode(),
                f'],"updateExistingUsersOnly":{existing_only}}}'.encode(),
            ),
            "unsubscribe": Envelope(
                f'{{"listId":{self.list_id},"subscribers":['.encode(),
                f'],"channelUnsubscribe":{channel}}}'.encode(),
            ),
        }

    @property
    def envelope(self) -> Envelope:  # type: ignore[override]
        return self._envelopes[SUBSCRIBE]

    def envelope_for(self, route: str) -> Envelope:
        return self._envelopes[route]

    def prepare(self, record: dict[str, Any]) -> tuple[PreparedRecord, Mapping[str, Any]]:
        route, member = list_member(record, self.converters)
        fields = member.get("dataFields", {})
        prepared = PreparedRecord.of_person_payload([encode_faithfully(record)], member, route)
        return prepared, fields

    def fields_of(self, prepared: PreparedRecord) -> Mapping[str, Any]:
        fields: Mapping[str, Any] = prepared.payload().get("dataFields", {})
        return fields

    def type_scope(self, prepared: PreparedRecord) -> str:
        return USER_TYPE_SCOPE

    def post(self, body: bytes, route: str) -> ApiResponse:
        if route == SUBSCRIBE:
            return self.client.subscribe_to_list(body)
        return self.client.unsubscribe_from_list(body)

    def recover_refused_request(
        self, batch: Sequence[PreparedRecord], response: ApiResponse
    ) -> None:
        """An unknown list fails the run: no record of it can ever be delivered.

        Iterable answers HTTP 400 with code ``Success`` and the message
        ``error.lists.invalidListId``, so the message is what tells. [FACTS]
        """
        if "invalidListId" in response.msg:
            raise ConfigurationError(
                f"stream '{self.stream_name}': Iterable has no list {self.list_id} "
                f"(HTTP {response.status}: {response.msg}); create the list in Iterable or "
                "rename the stream to list-<an existing list id>"
            )
        super().recover_refused_request(batch, response)
