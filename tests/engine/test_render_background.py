"""Background channels (direction strips) never go before a waiting canvas request."""

from __future__ import annotations

from studio.engine.render import BACKGROUND_PREFIX, RenderRequest, _Mailbox


def test_background_requests_wait_for_every_other_request():
    box = _Mailbox()
    for stamp in (1, 2, 3):
        box.put(RenderRequest(stamp, f"{BACKGROUND_PREFIX}strip:pc{stamp}", "m", "cpu"))
    box.put(RenderRequest(4, "canvas", "m", "cpu"))
    box.put(RenderRequest(5, "load", "m", "cpu"))
    order = []
    while (req := box.take()) is not None:
        order.append(req.channel)
    assert order == ["load", "canvas", "bg:strip:pc1", "bg:strip:pc2", "bg:strip:pc3"]
