"""Sphinx extension: serve the "Open in Colab" badge from the book itself.

Each notebook's first cell shows Colab's badge image by its public URL, which is what GitHub
and Colab render. In the built book the same image is replaced by a copy shipped in
``book/_static``, so pages load completely without internet and the browser check can assert
that every image loaded.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform

BADGES = {
    "https://colab.research.google.com/assets/colab-badge.svg": "/book/_static/colab-badge.svg",
}


class LocalBadges(SphinxTransform):
    """Point remote badge images at their local copies before images are collected."""

    default_priority = 400

    def apply(self, **kwargs) -> None:
        for image in self.document.findall(nodes.image):
            local = BADGES.get(image.get("uri", ""))
            if local is not None:
                image["uri"] = local
                if "candidates" in image:
                    del image["candidates"]


def setup(app: Sphinx) -> dict:
    app.add_transform(LocalBadges)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
