"""Routing: which functions an event goes to, the one step every entry shares.

`POST /` and `POST /events/<function>`, the local broker, the scheduler and the
test kit all deliver through `Router.route`, so the same event meets the same
functions and the same filter checks wherever it comes from. The functions an
event may go to are looked up in a `RouteIndex`, so choosing stays cheap however
many functions an app has.
"""

from __future__ import annotations

from cloudevents.core.v1.event import CloudEvent

from kfn._errors import FilterMismatch, NoMatchingFunction, UnknownFunction
from kfn._route_index import RouteIndex
from kfn.dispatch import BoundFunction, Dispatcher


class Router:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._ordered = tuple(dispatcher.targets.values())
        self._index = RouteIndex([target.spec.filter for target in self._ordered])

    def matching(self, event: CloudEvent) -> list[BoundFunction]:
        """Every function whose filters match `event`, in registration order."""
        ordered = self._ordered
        return [ordered[p] for p in self._index.matching(event.get_attributes())]

    def targets(self, event: CloudEvent, function: str | None = None) -> list[BoundFunction]:
        """The functions `event` goes to: every match (`function` None) or that one function.

        A named function must exist and its filters must match, as its Trigger's would.
        """
        if function is None:
            targets = self.matching(event)
            if not targets:
                raise NoMatchingFunction(
                    f"no function's filters match this event (type {event.get_type()!r})"
                )
            return targets
        target = self.dispatcher.targets.get(function)
        if target is None:
            raise UnknownFunction(
                f"no CloudEvent function is named {function!r}", function=function
            )
        if not target.spec.filter.matches(event.get_attributes()):
            raise FilterMismatch(
                f"the event does not match the filters of function {function!r}; its "
                "Trigger would not have delivered it"
            )
        return [target]

    async def route(self, event: CloudEvent, function: str | None = None) -> list[CloudEvent]:
        """Deliver `event` to its functions; their replies, or the deciding DeliveryError."""
        return await self.dispatcher.deliver(event, self.targets(event, function))
