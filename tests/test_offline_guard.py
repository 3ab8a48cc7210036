import socket

import pytest


def test_network_is_refused_in_tests():
    with pytest.raises(OSError, match="tests must run offline"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)
