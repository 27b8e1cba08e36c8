"""The life cycle every Kafka stage service shares: set up, serve health, run the stage, stop on SIGTERM."""

import asyncio
import ctypes
import gc
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from .http import HealthServer
from .kafka import StageRunner
from .logging import configure_logging
from .settings import ServiceSettings
from .stage import Admission, Decoder, Handler, decode_envelope
from .telemetry import setup_tracing
from .topics import stage_topic


@dataclass(frozen=True)
class SideInput:
    """Another topic a stage service consumes, with a handler and decoder of its own and its own consumer group
    (the compressor's agent replies): a runner of its own beside the stage's, sharing the process and its health."""

    topic: str
    group_id: str
    handler: Handler
    decoder: Decoder


async def run_stage_service(
    settings: ServiceSettings,
    http_port: int,
    build: Callable[[], Awaitable[tuple[Handler, Callable[[], Awaitable[None]]]]],
    decoder: Decoder = decode_envelope,
    admission: Admission | None = None,
    side_inputs: Sequence[SideInput] = (),
) -> None:
    """Run one agent stage until SIGTERM/SIGINT.

    Args:
        settings: the service's settings (its name is its consumer group and stage).
        http_port: where /healthz and /readyz are served.
        build: creates the handler and returns it with a close coroutine for its adapters; called once,
            after logging and tracing are set up and before any message is consumed.
        decoder: turns a Kafka record into an Envelope (the classifier reads raw tickets instead).
        admission: limits asked as each message is read (the classifier's per-customer limits), if any.
        side_inputs: further topics the service consumes (ready, stopped and closed with the stage).
    """
    log = configure_logging(settings.service_name, settings.log_level)
    setup_tracing(settings.service_name)
    handler, close_adapters = await build()
    runner = StageRunner(settings, handler, input_topic=stage_topic(settings.service_name), decoder=decoder,
                         admission=admission)
    runners = [runner, *(StageRunner(settings, s.handler, input_topic=s.topic, decoder=s.decoder,
                                     group_id=s.group_id) for s in side_inputs)]
    health = HealthServer(http_port, lambda: all(r.ready.is_set() for r in runners), host=settings.http_host)
    await health.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: [r.stop() for r in runners])
    try:
        for r in runners:
            await r.start()
        _release_start_up_memory()
        running = [asyncio.create_task(r.run()) for r in runners]
        # One runner failing (a bug: crash and restart) stops the others too, after they settle what is in flight.
        done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
        for r in runners:
            r.stop()
        await asyncio.gather(*running, return_exceptions=True)
        for task in done:
            task.result()
    finally:
        log.info("stopping", handled=sum(r.handled for r in runners))
        for r in runners:
            await r.close()
        await close_adapters()
        await health.stop()


def _release_start_up_memory() -> None:
    """Hand the memory start-up used only once (the model's loading, the ledger's read-back of a day of outcomes)
    back to the system: without it the classifier stayed above 250 MB resident for good.

    What is left lives as long as the process (the model, the indexes, the workflows): frozen, the collector
    never walks it again. Walked, it made a full collection in the classifier during a flood a pause of 190 ms
    instead of 40, which every ticket read meanwhile waited out (measured in chaos test 7).
    """
    gc.collect()
    gc.freeze()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass   # not glibc: the memory is reused by the process instead
