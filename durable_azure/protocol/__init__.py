"""The out-of-process protocol of the official SDK (`azure.durable_functions`), served by this host.

An app that keeps `import azure.durable_functions` runs its orchestrators through
the SDK's own handler: the host hands it the instance's history as the
extension's trigger JSON, the SDK replays the user's generator over it and
returns every action scheduled since the execution began; the host then replays
those actions the way the extension's shim does (DTFx numbering, retries,
timers, non-determinism checks) and carries out the new ones. This package is
that host side, pure like the replay engine it drives: no I/O, no clock.

See ../shared/reference/out-of-proc-protocol.md for the wire facts.
"""

from durable_azure.protocol.entity import SdkEntity
from durable_azure.protocol.executor import ProtocolOrchestrationExecutor, SdkOrchestrator

__all__ = ["ProtocolOrchestrationExecutor", "SdkEntity", "SdkOrchestrator"]
