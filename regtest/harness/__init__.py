"""The one-command regtest network: potcd, the training coordinator and its miners as real
processes in one directory (`potc-net start|stop|status|watch`). See docs/network.md."""

from regtest.harness.layout import NetConfig, NetLayout
from regtest.harness.network import Network, NetworkError

__all__ = ["NetConfig", "NetLayout", "Network", "NetworkError"]
