"""The kernel client every report kernel is driven by."""

from __future__ import annotations

import asyncio

import zmq

from evaltools.run.kernels import RECONNECT_MS, ReportKernelClient, report_kernel_manager


def test_a_report_kernel_client_retries_connecting_to_a_starting_kernel_every_few_ms() -> None:
    # ZeroMQ's default (100 ms) made every kernel start wait about that long once: the client
    # connects before the kernel has bound its sockets.
    client = ReportKernelClient()
    socket = client.context.socket(zmq.DEALER)
    try:
        assert socket.getsockopt(zmq.RECONNECT_IVL) == RECONNECT_MS < 100
    finally:
        socket.close(linger=0)
        client.context.term()
    # Only the client's own context: other sockets of the process keep ZeroMQ's default.
    other = zmq.Context()
    plain = other.socket(zmq.DEALER)
    try:
        assert plain.getsockopt(zmq.RECONNECT_IVL) == 100
    finally:
        plain.close(linger=0)
        other.term()


def test_report_kernel_managers_make_report_kernel_clients() -> None:
    manager = report_kernel_manager()()
    try:
        client = manager.client()
        assert isinstance(client, ReportKernelClient)
        assert client.context.getsockopt(zmq.RECONNECT_IVL) == RECONNECT_MS
        client.context.term()
    finally:
        asyncio.run(manager.cleanup_resources())
