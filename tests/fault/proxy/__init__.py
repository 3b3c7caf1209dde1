"""A fault-injecting loopback HTTP proxy between durable-azure workers and Azurite, for the fault tests.

DESIGN.md asks the fault tests to inject storage faults through a loopback proxy. This is that proxy: three
listening ports, one per storage service (blob, queue, table), each relaying HTTP/1.1 to the matching Azurite
port, and drawing for every request at most one fault from a seeded FaultPlan:

    busy          503 ServerBusy with Retry-After, not forwarded (throttling)
    timeout       500 OperationTimedOut, not forwarded
    reset_before  connection reset, not forwarded: the write did not happen
    drop_after    forwarded, response read, then connection reset: the write happened, the client saw an error
    delay         forwarded, response held back for a while (slow storage)

Requests are classified into the kinds the storage account's request counter uses (queue.send, table.batch, ...),
so a plan can aim at one kind, and the statistics count per kind and fault.

Use FaultProxy in the test's event loop (`async with FaultProxy(...) as proxy`), or FaultProxyThread from
synchronous fixtures that start worker subprocesses: it runs the same proxy on its own loop in a thread.
`python -m tests.fault.proxy --help` puts it in front of an Azurite by hand.

The package: plan.py decides (ports, faults, the seeded plan, request kinds, statistics), http.py reads and writes
HTTP/1.1 and holds the upstream connection, server.py listens and relays (FaultProxy, FaultProxyThread), and
__main__.py is the command line. Import from here; the modules are its seams, not its interface.

Standard library only, plus the connection-string builder of durable_azure.azurite: the proxy must not depend on
the storage code it is there to test.
"""

from tests.fault.proxy.plan import Fault, FaultPlan, ProxyStatistics, ServicePorts, classify
from tests.fault.proxy.server import FaultProxy, FaultProxyThread

__all__ = ["Fault", "FaultPlan", "FaultProxy", "FaultProxyThread", "ProxyStatistics", "ServicePorts", "classify"]
