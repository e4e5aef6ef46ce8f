"""A worker-hosted channel's packets, relayed to the runtime's process for recording.

The recorder stays in the runtime (it owns the index and the disk); the channel's feeds run in
a worker. So ``RemoteChannel.packets`` is a mapping role -> ``RelayedFanout``: a
``PacketFanout`` of the runtime's own, fed by the worker. Its first subscriber makes the worker
subscribe to the channel's fanout of that role; its last unsubscribe stops that again, so a
channel nobody records costs nothing here.

Why batches: a pipe message per packet is a send, a wake-up and an unpickle per packet in both
processes, and 16 channels at 25 fps are 400 of them a second per worker. The worker's
consumer only appends the packet to a bounded deque (it runs on the feed's thread and must
return at once); one thread per worker sends every subscription's waiting packets in one
message every ``BATCH_INTERVAL`` (the recorder itself writes every 0.5 s, so this adds at most
that much to what a killed runtime loses). Packets keep every field but ``source`` (the
demuxer's own packet, a decoder's business); a stream's ``time_base`` and codec are one object
each, which pickle sends once per batch. The stream's ``StreamInfo`` travels in line, before
the first packet and again wherever it changes (a reconnect), so the runtime's fanout has the
right ``info`` when a segment opens with the packet after it.

Bounded: a worker whose runtime does not read (its send blocks) keeps at most
``QUEUE_PACKETS`` per subscription and then drops up to the next keyframe (counted, logged
per episode), the first packet after marked ``discontinuity`` as the recorder does itself.

A dead worker ends the relay the way a source that ends ends a fanout today: the consumers are
told nothing and simply get no more packets (the channel goes offline with its video loss
event, which the runtime handles); it is logged. When the runtime opens the channel in a
replacement worker (``RemoteChannel.rebind``, then ``rebound``), the fanouts still subscribed
are fed from there, the first packet marked ``discontinuity``, so the recorder closes its
segment as after a reconnect.

The channel's encoded stream (``served.encoded(role)``: what the recorder takes while a stage
or display info changes the pictures) is relayed the same way: ``relayed_encoded`` is a
runtime-side ``EncodedStream`` whose ``attach`` attaches a consumer to the worker's (blocking,
as a local first attach that opens the encoder), whose packets come in the same batches, and
whose end (the worker's stream ended or failed, the worker died) ends the runtime's consumer
with its error, in line after its last packets. ``image.active`` and ``display.enabled`` (the
recorder's "pictures changed") are read from the worker's status snapshot.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..channel import Channel
from ..encoding import DEFAULT_QUEUE_PACKETS, EncodedStream, StreamConsumer
from ..exceptions import CameraRuntimeError, NotFoundError, WorkerGoneError
from ..feed import MAIN, SUB, PacketConsumer, PacketFanout
from ..interfaces import Encoder
from ..model import Packet, StreamInfo

if TYPE_CHECKING:
    from .host import WorkerHost
    from .process import WorkerProcess
    from .remote import RemoteChannel

_LOGGER = logging.getLogger(__name__)

#: How often (s) the worker sends the packets waiting: every subscription's in one message.
BATCH_INTERVAL = 0.2
#: Packets waiting per subscription at most (about 10 s at 25 fps) before dropping to the
#: next keyframe.
QUEUE_PACKETS = 250
#: The message kind of a batch: ``("packets.batch", [(channel_id, subscription, items)])``,
#: items being wire packets (``_wire``) and ``StreamInfo``s in stream order.
BATCH = "packets.batch"

WirePacket = tuple[bytes, Any, Any, Any, bool, str, float, float, bool]


@dataclass(frozen=True, slots=True)
class Ended:
    """In a batch, after a subscription's last packets: the worker's encoded stream ended
    that consumer (``error``: why, "" when it was merely closed)."""

    error: str


Item = WirePacket | StreamInfo | Ended


def _wire(packet: Packet) -> WirePacket:
    """A packet as it crosses the pipe: every field but the demuxer's own packet."""
    return (
        packet.data,
        packet.pts,
        packet.dts,
        packet.time_base,
        packet.keyframe,
        packet.codec,
        packet.demux_time,
        packet.wall_time,
        packet.discontinuity,
    )


# ===================================================================== the worker's side


class _Subscription:
    """One runtime subscription to a channel's fanout or encoded stream, in the worker."""

    __slots__ = (
        "channel_id",
        "dropped",
        "dropping",
        "episodes",
        "fanout",
        "id",
        "info",
        "keyframe",
        "pending",
        "taken",
        "unsubscribe",
    )

    def __init__(self, channel_id: str, subscription: int, fanout: PacketFanout) -> None:
        self.channel_id = channel_id
        self.id = subscription
        #: The fanout taken (an encoded stream's subscription has one of its own, never
        #: published to: its info is the encoder's).
        self.fanout = fanout
        #: Packets, stream infos and the end for the next batch: appended by the feed's (or
        #: encoder's) thread, taken by the sender's (a deque's append and popleft are atomic).
        self.pending: deque[Packet | StreamInfo | Ended] = deque()
        self.info: StreamInfo | None = None
        self.dropping = False
        self.dropped = 0
        self.episodes = 0
        self.taken = 0
        self.unsubscribe: Callable[[], None] = lambda: None
        self.keyframe: Callable[[], None] = lambda: None

    def on_packet(self, packet: Packet) -> None:
        """The feed's thread: an append (and the stream's info when it is new)."""
        pending = self.pending
        info = self.fanout.info
        if info is not self.info and info is not None:
            self.info = info
            pending.append(info)
        self.append(packet)

    def append(self, packet: Packet) -> None:
        """A packet for the next batch, or dropped to the next keyframe when too many wait."""
        pending = self.pending
        if self.dropping and not packet.keyframe:
            self.dropped += 1
            return
        if len(pending) >= QUEUE_PACKETS:
            self.dropped += 1
            if not self.dropping:
                self.dropping = True
                self.episodes += 1
                _LOGGER.warning(
                    "%s: the runtime is behind the %s stream's packets: dropped to the next "
                    "keyframe",
                    self.channel_id,
                    self.fanout.role,
                )
            return
        if self.dropping:
            self.dropping = False
            packet = Packet(*_wire(packet)[:8], discontinuity=True)
        self.taken += 1
        pending.append(packet)

    def ended(self, error: str) -> None:
        """The encoder's thread (or whoever closed it): the worker's encoded stream ended this
        consumer; the runtime's learns it after the packets before."""
        self.pending.append(Ended(error))

    def take(self) -> list[Item]:
        """The sender's thread: what waits, as it crosses the pipe."""
        pending = self.pending
        items: list[Item] = []
        for _ in range(len(pending)):
            item = pending.popleft()
            items.append(_wire(item) if isinstance(item, Packet) else item)
        return items


class WorkerPackets:
    """The worker's subscriptions and the one thread that sends their packets."""

    def __init__(self, host: WorkerHost) -> None:
        self._host = host
        self._subscriptions: dict[int, _Subscription] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._gone = False
        self.batches = 0

    def subscribe(self, channel: Channel, role: str, subscription: int) -> None:
        fanout = channel.packets.get(role)
        if fanout is None:
            raise NotFoundError(
                f"channel {channel.id!r} has no {role!r} stream", "stream_not_found"
            )
        sub = _Subscription(channel.id, subscription, fanout)
        if fanout.info is not None:
            sub.info = fanout.info
            sub.pending.append(fanout.info)
        with self._lock:
            if subscription in self._subscriptions:
                return  # asked twice: the first stands
        sub.unsubscribe = fanout.subscribe(sub.on_packet)
        self._add(sub)

    def attach(self, channel: Channel, role: str, subscription: int) -> StreamInfo | None:
        """Attach to the channel's encoded ``role`` stream (blocking: the first consumer
        opens its encoder); the encoder's stream info."""
        stream = channel.served.encoded(role)
        sub = _Subscription(channel.id, subscription, PacketFanout(role))
        with self._lock:
            if subscription in self._subscriptions:
                return stream.stream_info()
        consumer = stream.attach(sub.append, max_packets=1, on_end=sub.ended)
        sub.unsubscribe = consumer.close
        sub.keyframe = stream.request_keyframe
        self._add(sub)
        return stream.stream_info()

    def keyframe(self, channel: Channel, subscription: int) -> None:
        """The next picture of an attached encoded stream is coded as a keyframe."""
        with self._lock:
            sub = self._subscriptions.get(subscription)
        if sub is not None and sub.channel_id == channel.id:
            sub.keyframe()

    def _add(self, sub: _Subscription) -> None:
        with self._lock:
            self._subscriptions[sub.id] = sub
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="worker-packets", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def unsubscribe(self, channel: Channel, subscription: int) -> None:
        with self._lock:
            sub = self._subscriptions.get(subscription)
            if sub is None or sub.channel_id != channel.id:
                return
            del self._subscriptions[subscription]
        sub.unsubscribe()

    def state(self, channel: Channel) -> dict[str, Any]:
        """What the worker relays of ``channel`` (what the runtime can observe): per role
        its fanout's consumers and packets published, the relay's subscriptions, and the
        sending thread's native id (where its CPU is read)."""
        with self._lock:
            subs = [s for s in self._subscriptions.values() if s.channel_id == channel.id]
        thread = self._thread
        return {
            "sender": thread.native_id if thread is not None else None,  # a benchmark's
            "roles": {
                role: {"consumers": f.consumers, "published": f.packets}
                for role, f in channel.packets.items()
            },
            "subscriptions": {
                s.id: {
                    "role": s.fanout.role,
                    "taken": s.taken,
                    "dropped": s.dropped,
                    "episodes": s.episodes,
                }
                for s in subs
            },
        }

    def _run(self) -> None:
        while not self._gone:
            with self._lock:
                subs = list(self._subscriptions.values())
            if not subs:
                self._wake.wait()
                self._wake.clear()
                continue
            entries = [(s.channel_id, s.id, items) for s in subs if (items := s.take())]
            over = [e[1] for e in entries if isinstance(e[2][-1], Ended)]
            if over:  # the encoded stream ended them: nothing more will come
                with self._lock:
                    for subscription in over:
                        self._subscriptions.pop(subscription, None)
            if entries:
                if not self._host.push(BATCH, entries):
                    self._gone = True  # the runtime is gone: the worker is ending
                    return
                self.batches += 1
            self._wake.wait(BATCH_INTERVAL)  # or sooner: a new subscription's stream info
            self._wake.clear()


def install(host: WorkerHost) -> None:
    """Register the packet relay's calls with the worker's host."""
    packets = WorkerPackets(host)
    host.handle("packets.subscribe", packets.subscribe)
    host.handle("packets.unsubscribe", packets.unsubscribe)
    host.handle("packets.state", packets.state)
    host.handle("packets.attach", packets.attach)
    host.handle("packets.keyframe", packets.keyframe)


# ===================================================================== the runtime's side


class RelayedFanout(PacketFanout):
    """A worker-hosted channel's stream role, in the runtime: its packets as the worker
    relays them, while anyone subscribes. ``ended`` says why the relay last ended ("" while it
    runs or never did)."""

    def __init__(self, channel_id: str, role: str, relay: RuntimePackets) -> None:
        super().__init__(role)
        self.channel_id = channel_id
        self._relay = relay
        #: The worker's subscription feeding this fanout (None: not subscribed).
        self.subscription: int | None = None
        self.ended = ""
        #: The next packet follows a gap (the relay ended and came back).
        self._gap = False

    def subscribe(self, consumer: PacketConsumer) -> Callable[[], None]:
        """As ``PacketFanout.subscribe``; the first subscriber starts the worker's relay (in
        the background: this never waits for the worker)."""
        with self._lock:
            self._consumers = (*self._consumers, consumer)
            if len(self._consumers) == 1:
                self._relay.start(self)

        def unsubscribe() -> None:
            with self._lock:
                had = bool(self._consumers)
                self._consumers = tuple(c for c in self._consumers if c is not consumer)
                if had and not self._consumers:
                    self._relay.stop(self)

        return unsubscribe

    def deliver(self, items: list[Item]) -> None:
        """The link's thread: a batch, in stream order (consumers return at once)."""
        for item in items:
            if isinstance(item, tuple):
                packet = Packet(*item)
                if self._gap:
                    self._gap = False
                    if not packet.discontinuity:
                        packet = Packet(*item[:8], discontinuity=True)
                self.publish(packet)
            elif isinstance(item, StreamInfo):
                self.info = item

    def end(self, reason: str) -> None:
        """The relay ended (the worker is gone, or refused): consumers just get no more."""
        self.ended = reason
        self._gap = True

    def rebind(self, relay: RuntimePackets) -> None:
        """The channel runs in another worker now: its consumers, if any, are fed from
        there (the first packet marked ``discontinuity``, as after a reconnect)."""
        with self._lock:
            old, self._relay = self._relay, relay
            if self.subscription is not None:
                old.stop(self)
            if self._consumers:
                relay.start(self)


def _no_encoder() -> Encoder:
    raise WorkerGoneError("a relayed stream's encoder runs in its worker")


class RelayedEncodedStream(EncodedStream):
    """A worker-hosted channel's encoded ``role`` stream, in the runtime: each ``attach`` is a
    consumer of the worker's stream (the worker shares one encoder among them all), fed by the
    relay's batches and ended with the worker's stream (or the worker)."""

    def __init__(self, channel_id: str, role: str, relay: RuntimePackets) -> None:
        super().__init__(_no_encoder, f"{channel_id}-{role}")
        self.channel_id = channel_id
        self.role = role
        self._relay = relay
        self._attached: dict[StreamConsumer, int] = {}

    @property
    def running(self) -> bool:
        return bool(self._attached)

    @property
    def consumers(self) -> int:
        return len(self._attached)

    def put(self, frame: Any) -> None:
        """Pictures are the worker's: nothing is encoded here."""

    def attach(
        self,
        callback: Callable[[Packet], None] | None = None,
        *,
        max_packets: int = DEFAULT_QUEUE_PACKETS,
        on_end: Callable[[str], None] | None = None,
    ) -> StreamConsumer:
        """A consumer of the worker's stream, from its next keyframe. Blocking (the worker's
        first consumer opens its encoder); raises what the worker's ``attach`` raises, or
        ``WorkerGoneError``."""
        consumer = StreamConsumer(self, callback, max_packets, on_end)
        subscription, info = self._relay.attach(self, consumer)
        with self._lock:
            self._attached[consumer] = subscription
            self._info = info
        return consumer

    def detach(self, consumer: StreamConsumer) -> None:
        with self._lock:
            subscription = self._attached.pop(consumer, None)
        if subscription is not None:
            self._relay.detach(self, subscription)
        consumer._end()

    def ended(self, consumer: StreamConsumer) -> None:
        """The worker ended ``consumer`` (its stream, or the worker, is gone)."""
        with self._lock:
            self._attached.pop(consumer, None)

    def request_keyframe(self) -> None:
        with self._lock:
            subscriptions = list(self._attached.values())
        for subscription in subscriptions:
            self._relay.keyframe(self, subscription)

    def close(self) -> None:
        with self._lock:
            consumers = list(self._attached)
        for consumer in consumers:
            self.detach(consumer)

    def join(self, timeout: float | None = None) -> bool:
        return True

    def rebind(self, relay: RuntimePackets) -> None:
        self._relay = relay


class _EncodedTarget:
    """Where the relay puts an encoded subscription's batches: its runtime consumer."""

    def __init__(self, stream: RelayedEncodedStream, consumer: StreamConsumer) -> None:
        self.stream = stream
        self.consumer = consumer

    def deliver(self, items: list[Item]) -> None:
        for item in items:
            if isinstance(item, tuple):
                self.consumer._deliver(Packet(*item))
            elif isinstance(item, Ended):
                self.end(item.error)  # "": closed, as a local stream's close says

    def end(self, reason: str) -> None:
        self.stream.ended(self.consumer)
        self.consumer._end(reason)


_Call = tuple[str, str, tuple[Any, ...], Callable[[CameraRuntimeError], None]]


class RuntimePackets:
    """The runtime's side of one worker's packet relay: the subscriptions of its channels'
    relayed fanouts and encoded streams, the batches dispatched to them, and one thread that
    makes the subscribe and unsubscribe calls in order (a recorder subscribes from wherever
    it starts or switches source, and must not wait for a pipe)."""

    def __init__(self, worker: WorkerProcess) -> None:
        self._worker = worker
        self._ids = itertools.count(1)
        self._targets: dict[int, RelayedFanout | _EncodedTarget] = {}
        self._lock = threading.Lock()
        #: The calls to make, in order; an ``Event`` is set when those before it are made.
        self._calls: queue.SimpleQueue[_Call | threading.Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._gone = ""
        worker.on(BATCH, self._on_batch)
        worker.on_exit(self._on_exit)

    # -- any thread (a fanout's lock held: never blocks) ---------------------------------

    def start(self, fanout: RelayedFanout) -> None:
        subscription = next(self._ids)
        with self._lock:
            if self._gone:
                fanout.end(self._gone)
                _LOGGER.warning(
                    "%s: no packets of the %s stream: %s",
                    fanout.channel_id,
                    fanout.role,
                    self._gone,
                )
                return
            self._targets[subscription] = fanout
            fanout.subscription = subscription
            fanout.ended = ""
            self._start_thread()

        def failed(err: CameraRuntimeError) -> None:
            with self._lock:
                if self._targets.get(subscription) is fanout:
                    del self._targets[subscription]
                    fanout.subscription = None
            fanout.end(str(err))

        call = ("packets.subscribe", fanout.channel_id, (fanout.role, subscription), failed)
        self._calls.put(call)

    def stop(self, fanout: RelayedFanout) -> None:
        with self._lock:
            subscription, fanout.subscription = fanout.subscription, None
            if subscription is None or self._targets.pop(subscription, None) is None:
                return
        self._later("packets.unsubscribe", fanout.channel_id, subscription)

    def detach(self, stream: RelayedEncodedStream, subscription: int) -> None:
        with self._lock:
            if self._targets.pop(subscription, None) is None:
                return
        self._later("packets.unsubscribe", stream.channel_id, subscription)

    def keyframe(self, stream: RelayedEncodedStream, subscription: int) -> None:
        self._later("packets.keyframe", stream.channel_id, subscription)

    def _later(self, name: str, channel_id: str, subscription: int) -> None:
        self._calls.put((name, channel_id, (subscription,), lambda err: None))

    def _start_thread(self) -> None:
        """With ``_lock`` held."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"{self._worker.name}-packets", daemon=True
            )
            self._thread.start()

    # -- a blocking call (the recorder's writer thread) ----------------------------------

    def attach(
        self, stream: RelayedEncodedStream, consumer: StreamConsumer
    ) -> tuple[int, StreamInfo | None]:
        """Attach ``consumer`` to the worker's encoded stream: its subscription and the
        encoder's stream info. The target is in place before the call, so packets sent
        before the reply are not lost."""
        subscription = next(self._ids)
        with self._lock:
            if self._gone:
                raise WorkerGoneError(self._gone)
            self._targets[subscription] = _EncodedTarget(stream, consumer)
        try:
            info: StreamInfo | None = self._worker.call(
                "packets.attach", stream.channel_id, stream.role, subscription
            )
        except CameraRuntimeError:
            with self._lock:
                self._targets.pop(subscription, None)
            raise
        return subscription, info

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until the worker has applied every subscribe and unsubscribe asked so far
        (``False``: not within ``timeout``, or nothing will apply them: the worker is
        gone). Blocking."""
        with self._lock:
            if self._thread is None:
                return True
            done = threading.Event()
            self._calls.put(done)
        return done.wait(timeout)

    # -- the calls' thread ---------------------------------------------------------------

    def _run(self) -> None:
        while (call := self._calls.get()) is not None:
            if isinstance(call, threading.Event):
                call.set()
                continue
            name, channel_id, args, failed = call
            try:
                self._worker.call(name, channel_id, *args)
            except CameraRuntimeError as err:
                failed(err)
                _LOGGER.warning("%s: %s failed: %s", channel_id, name, err)

    # -- the link's thread ---------------------------------------------------------------

    def _on_batch(self, message: tuple[Any, ...]) -> None:
        targets = self._targets
        for _channel_id, subscription, items in message[1]:
            target = targets.get(subscription)  # a dict read: atomic
            if target is None:  # unsubscribed meanwhile: late packets
                continue
            if isinstance(items[-1], Ended):
                with self._lock:
                    targets.pop(subscription, None)
            target.deliver(items)

    def _on_exit(self) -> None:
        reason = f"{self._worker.name} is gone"
        with self._lock:
            self._gone = reason
            targets = list(self._targets.values())
            self._targets.clear()
        for target in targets:
            if isinstance(target, RelayedFanout):
                target.subscription = None
                _LOGGER.warning(
                    "%s: the %s stream's packets end: %s", target.channel_id, target.role, reason
                )
            target.end(reason)
        self._calls.put(None)


def relay_of(worker: WorkerProcess) -> RuntimePackets:
    """The worker's relay, made once per worker (its handlers register once)."""
    return worker.part("packets", RuntimePackets)


class _ImageView:
    """What the recorder asks of a channel's image stages: whether any is on."""

    def __init__(self, worker: WorkerProcess, channel_id: str) -> None:
        self.worker, self._id = worker, channel_id

    @property
    def active(self) -> bool:
        return self.worker.snapshot(self._id).image_active


class _DisplayView:
    """What the recorder asks of a channel's display info: whether it is drawn."""

    def __init__(self, worker: WorkerProcess, channel_id: str) -> None:
        self.worker, self._id = worker, channel_id

    @property
    def enabled(self) -> bool:
        return self.worker.snapshot(self._id).display_info


class RelayedStreams:
    """A worker-hosted channel's encoded streams, by role, made on first use (what
    ``ChannelStreams.encoded`` is to a local channel)."""

    def __init__(self, channel_id: str, relay: RuntimePackets) -> None:
        self._channel_id = channel_id
        self._relay = relay
        self._streams: dict[str, RelayedEncodedStream] = {}
        self._lock = threading.Lock()

    def encoded(self, role: str) -> EncodedStream:
        with self._lock:
            stream = self._streams.get(role)
            if stream is None:
                stream = RelayedEncodedStream(self._channel_id, role, self._relay)
                self._streams[role] = stream
            return stream

    def rebind(self, relay: RuntimePackets) -> None:
        """The channel runs in another worker now: the next ``attach`` goes there (those of
        the former worker were ended with it)."""
        with self._lock:
            self._relay = relay
            for stream in self._streams.values():
                stream.rebind(relay)


def remote_packets(
    channel_id: str, substream: bool, worker: WorkerProcess
) -> tuple[dict[str, RelayedFanout], _ImageView, _DisplayView, RelayedStreams]:
    """A ``RemoteChannel``'s ``packets``, ``image``, ``display`` and encoded streams (the
    parts the recorder takes): a relayed fanout per stream role the channel has (as
    ``Channel`` makes them)."""
    relay = relay_of(worker)
    roles = [MAIN, SUB] if substream else [MAIN]
    fanouts = {role: RelayedFanout(channel_id, role, relay) for role in roles}
    views = _ImageView(worker, channel_id), _DisplayView(worker, channel_id)
    return fanouts, *views, RelayedStreams(channel_id, relay)


def rebound(channel: RemoteChannel) -> None:
    """After ``RemoteChannel.rebind`` (its worker died and it was opened in a replacement):
    its relayed parts follow it, and a stream still subscribed (a recorder) is fed from the
    new worker, its first packet marked ``discontinuity``."""
    worker = channel.worker
    relay = relay_of(worker)
    channel.image.worker = channel.display.worker = worker
    for fanout in channel.packets.values():
        fanout.rebind(relay)
    channel.relayed_streams.rebind(relay)
