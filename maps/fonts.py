"""The CJK font the static figure is drawn with — shipped by a dependency, never assumed.

First choice: Noto Sans CJK SC as shipped inside the `mplfonts` package (a declared dependency:
the figure renders the same on any machine). Fallback: a system Noto Sans CJK / WenQuanYi font
(Debian: `apt-get install fonts-noto-cjk`, which scripts/test installs). Without either the
figure cannot show Chinese, and `CjkFontMissing` says how to fix it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from matplotlib import font_manager

PACKAGED = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")
SYSTEM_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei",
                   "Source Han Sans SC")


class CjkFontMissing(RuntimeError):
    """No font with Chinese glyphs: install `mplfonts` (pip) or `fonts-noto-cjk` (apt)."""


@cache
def cjk_font_path() -> Path:
    package, name = PACKAGED
    try:
        path = Path(str(resources.files(package).joinpath(name)))
        if path.is_file():
            return path
    except ModuleNotFoundError:
        pass
    for family in SYSTEM_FAMILIES:
        try:
            found = font_manager.findfont(font_manager.FontProperties(family=family),
                                          fallback_to_default=False)
        except ValueError:
            continue
        return Path(found)
    raise CjkFontMissing(
        "地图图件需要中文字体：请安装 Python 包 mplfonts（pip install mplfonts），"
        "或 Debian 软件包 fonts-noto-cjk（apt-get install fonts-noto-cjk）。"
    )


def cjk_font(size: float) -> font_manager.FontProperties:
    return font_manager.FontProperties(fname=str(cjk_font_path()), size=size)
