"""Router-level filters read off the handlers' own: an update skips a whole router that has no handler for it.

aiogram tries the routers in order, and each router its handlers' filters one by one: a press of the feed's Next
was unpacked (and refused) by some 40 CallbackData filters of the ten routers before the feed's, and /feed went
through the commands, menu texts and states of as many. Each router gets, first among its own filters, the union of
what its handlers require at the least (`skip_routers`): for a press, one of the CallbackData prefixes they take;
for a message, one of their FSM states, commands, menu texts, or a field (a payment, a reply) they need. An update
that offers none of them passes the router by with that one check; any other goes through the router's handlers
as before, in the same order. The order of routers and handlers is unchanged. A router is left as it is when one of
its handlers requires nothing recognised here (the fallback takes anything), or when it has routers under it (its
filter would hide them).

Even refused by its first filter, a router costs aiogram's whole way in (`Router.propagate_event`: a closure, its
outer middlewares wrapped, the ~26 keys of the update's data copied five times, the filter awaited through
`FilterObject`): 15-30 us each, and a click passes about ten. The dispatcher's loop over its routers is the one
place to avoid that without changing the routers: `RoutedDispatcher` asks, before going in, whether aiogram's walk
would call anything there, and passes the router by when it would not: no handler and no filter for the update's
kind, or a `Route` first that refuses the update (the same check, made in place). Whatever could act (an outer
middleware, routers under it, any other first filter, a route that lets the update through) is entered as aiogram
would, in the same order, so what takes an update and what is called on the way are aiogram's own."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from re import Pattern
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from magic_filter.magic import MagicFilter
from magic_filter.operations import FunctionOperation, GetAttributeOperation
from magic_filter.util import in_op

ANY = "*"


def skip_routers(router: Router) -> None:
    """Give each router under `router` (and itself) its press and message filters; call before the handlers'
    filters are wrapped (bot.factory.run_filters_in_place)."""
    for each in router.chain_tail:
        if each.sub_routers:
            continue
        _put_first(each.callback_query, _press_route(each.callback_query.handlers))
        _put_first(each.message, _message_route(each.message.handlers))


def _put_first(observer: TelegramEventObserver, route: Route | None) -> None:
    if route is not None:
        observer._handler.filters = [FilterObject(route), *(observer._handler.filters or ())]


class RoutedDispatcher(Dispatcher):
    """aiogram's Dispatcher, passing by the routers that would not take the update without going into them (see
    the module's docstring); everything else as aiogram does it, in the same order."""

    async def _propagate_event(
        self, observer: TelegramEventObserver | None, update_type: str, event: TelegramObject, **kwargs: Any
    ) -> Any:
        if observer is None or observer.handlers or observer._handler.filters:  # the dispatcher's own: as aiogram
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        raw_state = kwargs.get("raw_state")
        for router in self.sub_routers:
            if not passes_by(router, update_type, event, raw_state):
                response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
                if response is not UNHANDLED:
                    return response
        return UNHANDLED


def passes_by(router: Router, update_type: str, event: TelegramObject, raw_state: str | None) -> bool:
    """Whether aiogram's `router.propagate_event` would come back UNHANDLED having called nothing but a `Route`."""
    observer = router.observers.get(update_type)
    if observer is None or router.sub_routers or len(observer.outer_middleware):
        return False
    filters = observer._handler.filters
    if not filters:
        return not observer.handlers
    route = filters[0].callback
    return isinstance(route, Route) and not route.admits(event, raw_state)


class Route(Filter):
    """A router's first filter: whether one of its handlers may take the update (`admits`, also called in place
    by RoutedDispatcher)."""

    async def __call__(self, event: TelegramObject, raw_state: str | None = None) -> bool:
        return self.admits(event, raw_state)

    @abstractmethod
    def admits(self, event: Any, raw_state: str | None) -> bool: ...


class PressRoute(Route):
    """The press's data starts with one of the prefixes (each with its CallbackData's separator)."""

    def __init__(self, prefixes: dict[str, frozenset[str]]) -> None:
        self.prefixes = prefixes  # separator -> prefixes

    def admits(self, event: CallbackQuery, raw_state: str | None) -> bool:
        data = event.data
        if data is not None:
            for sep, names in self.prefixes.items():
                if data.partition(sep)[0] in names:
                    return True
        return False


def _press_route(handlers: list[HandlerObject]) -> PressRoute | None:
    prefixes: dict[str, set[str]] = {}
    for handler in handlers:
        typed = [each.callback for each in handler.filters or () if isinstance(each.callback, CallbackQueryFilter)]
        if not typed:
            return None
        for each in typed:
            prefixes.setdefault(each.callback_data.__separator__, set()).add(each.callback_data.__prefix__)
    return PressRoute({sep: frozenset(names) for sep, names in prefixes.items()}) if prefixes else None


@dataclass
class MessageRoute(Route):
    """The message is in one of `states`, is one of `commands` (any case, any mention) or matches one of
    `command_patterns`, reads one of `texts`, or has one of the fields `fields`."""

    states: set[str | None] = field(default_factory=set)
    command_prefixes: set[str] = field(default_factory=set)
    commands: set[str] = field(default_factory=set)  # casefolded
    command_patterns: list[Pattern[str]] = field(default_factory=list)
    texts: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)

    def admits(self, message: Message, raw_state: str | None) -> bool:
        text = message.text
        if raw_state in self.states or (text is not None and text in self.texts):
            return True
        text = text or message.caption
        if text and text[0] in self.command_prefixes:
            command, folded = _command(text)
            if folded in self.commands or any(each.match(command) for each in self.command_patterns):
                return True
        return any(getattr(message, name, None) for name in self.fields) if self.fields else False

    def takes(self, event_filter: Any) -> bool:
        """Add what `event_filter` requires; False when it is not a filter recognised here."""
        if isinstance(event_filter, MagicFilter):
            return self._takes_magic(event_filter)
        if isinstance(event_filter, State):
            return self._takes_states([event_filter])
        if isinstance(event_filter, StateFilter):
            return self._takes_states(list(event_filter.states))
        if isinstance(event_filter, Command):  # and CommandStart
            self.command_prefixes |= set(event_filter.prefix)
            for command in event_filter.commands:  # a pattern matches the command as written, as in aiogram
                if isinstance(command, Pattern):
                    self.command_patterns.append(command)
                else:
                    self.commands.add(str(command).casefold())
            return True
        return False

    def _takes_states(self, states: list[Any]) -> bool:
        names: set[str | None] = set()
        for state in states:
            if isinstance(state, State):
                state = state.state
            if isinstance(state, StatesGroup):
                state = type(state)
            if isinstance(state, type) and issubclass(state, StatesGroup):
                names |= set(state.__all_states_names__)
            elif state is None or (isinstance(state, str) and state != ANY):
                names.add(state)
            else:  # any state, or something else
                return False
        self.states |= names
        return True

    def _takes_magic(self, magic: MagicFilter) -> bool:
        operations = magic._operations
        if not operations or not isinstance(operations[0], GetAttributeOperation):
            return False
        name = operations[0].name
        if len(operations) == 1:  # F.successful_payment: the field is there (and not empty)
            self.fields.add(name)
            return True
        match operations[1:]:  # F.text.in_(texts)
            case [FunctionOperation(function=function, args=(texts,))] if (
                name == "text" and function is in_op and isinstance(texts, set | frozenset)
            ):
                self.texts |= {text for text in texts if isinstance(text, str)}
                return True
        return False


@lru_cache(maxsize=64)
def _command(text: str) -> tuple[str, str]:
    """The command as aiogram's Command reads it (`/Feed@bot words`: `Feed`), and casefolded: read once per
    message, not once per router."""
    command = text.split(maxsplit=1)[0][1:].partition("@")[0]
    return command, command.casefold()


def _message_route(handlers: list[HandlerObject]) -> MessageRoute | None:
    route = MessageRoute()
    for handler in handlers:
        if not any(route.takes(_registered(each)) for each in handler.filters or ()):
            return None
    return route if handlers else None


def _registered(event_filter: FilterObject) -> Any:
    """The filter as registered (aiogram keeps a magic filter aside and calls its `resolve`)."""
    return event_filter.magic if event_filter.magic is not None else event_filter.callback
