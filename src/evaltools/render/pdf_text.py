"""Text in report.pdf drawn from the Pango layouts WeasyPrint made for the layout.

WeasyPrint (70) frees each line's Pango layout once the line is laid out
(``Layout.deactivate``) and, to draw the line, builds it again (``Layout.reactivate``: a new
Pango context, font description and layout, and the text shaped again): a fifth of writing a
report's PDF. Here a line keeps its layout, and drawing reuses it, its width limit lifted as in
a rebuilt one, when nothing a rebuild would change differs: the same computed style and no
justification spacing (which only the drawing adds). Every other line is rebuilt as before.
The PDFs are byte-identical; a report's layouts stay in memory until its document is freed.

And every layout is made from a Pango context and font description shared with the other
layouts of the same direction, language and font (:func:`share_pango_setup`), instead of new
ones each time; and the widths of text measured for tables' column widths are remembered
across the process's layouts (:func:`remember_text_widths`).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

_KEPT = "_evaltools_keeps_layouts"  # marks WeasyPrint's Layout class as patched


def keep_text_layouts(line_break: Any, pango: Any) -> None:
    """Make WeasyPrint's text layouts (module `line_break`, Pango bindings `pango`) be kept
    after the layout and reused for drawing where that draws the same; once per process."""
    layout_class = line_break.Layout
    if getattr(layout_class, _KEPT, False):
        return
    rebuild = layout_class.reactivate

    def deactivate(self: Any) -> None:
        """Keep the Pango layout (WeasyPrint deletes it here and rebuilds it to draw)."""

    def reactivate(self: Any, style: Any) -> None:
        layout = getattr(self, "layout", None)
        same_style = style is getattr(self, "style", None)
        if layout is None or not same_style or self.justification_spacing:
            rebuild(self, style)
            return
        pango.pango_layout_set_width(layout, -1)  # a rebuilt layout has no width limit

    layout_class.deactivate = deactivate
    layout_class.reactivate = reactivate
    setattr(layout_class, _KEPT, True)


_SHARED = "_evaltools_shares_setup"  # marks WeasyPrint's Layout class as patched
_CACHE = "_evaltools_pango_cache"  # a font configuration's Pango contexts and fonts
_CACHE_SIZE = 4096


def share_pango_setup(line_break: Any) -> None:
    """Make WeasyPrint's text layouts (module `line_break`) share their Pango contexts and
    font descriptions; once per process.

    WeasyPrint (70) gives every piece of text it measures or draws a new Pango context and a
    new font description (``Layout.setup``), thousands per report, though they only depend
    on the text's direction, language and font. Here each font configuration keeps one
    context per direction and language and one description per font, never changed after
    they are made, and the layouts are made from those: Pango lays the text out the same.
    """
    layout_class = line_break.Layout
    if getattr(layout_class, _SHARED, False):
        return
    ffi, pango, gobject = line_break.ffi, line_break.pango, line_break.gobject
    original = layout_class.setup

    def setup(self: Any, style: Any) -> None:
        cache = getattr(style.font_config, _CACHE, None)
        if cache is None or len(cache) > _CACHE_SIZE:  # type sizes of many reports: start anew
            cache = {}
            setattr(style.font_config, _CACHE, cache)
        try:
            font = _font_key(style)
            features = _features_key(style)
        except TypeError:  # something unhashable: as WeasyPrint does
            original(self, style)
            return
        self.style = style
        self.first_line_direction = 0
        context, self.language = _context(cache, line_break, style)
        description = cache.get(font)
        if description is None:
            description = cache[font] = line_break.get_font_description(style)
        self.layout = ffi.gc(pango.pango_layout_new(context), gobject.g_object_unref)
        pango.pango_layout_set_auto_dir(self.layout, False)
        pango.pango_layout_set_font_description(self.layout, description)
        if style["text_decoration_line"] != "none":
            _set_decoration_metrics(self, line_break, context, description)
        else:
            self.ascent = self.underline_position = self.strikethrough_position = None
        encoded = cache.get(features)
        if encoded is None:
            found = line_break.font_features(*features[1:])
            encoded = cache[features] = (
                ",".join(f"{key} {value}" for key, value in found.items()).encode()
                if found
                else b""
            )
        if encoded:
            attr = style.font_config.font_features.setdefault(
                encoded, pango.pango_attr_font_features_new(encoded)
            )
            attr_list = pango.pango_attr_list_new()  # its own: set_text may add to it
            pango.pango_attr_list_insert(attr_list, attr)
            pango.pango_layout_set_attributes(self.layout, attr_list)

    layout_class.setup = setup
    setattr(layout_class, _SHARED, True)


_FONT = itemgetter(  # what a font description is made of (fonts.get_font_description)
    "font_family", "font_style", "font_stretch", "font_weight", "font_size",
    "font_variant_caps", "font_variation_settings",
)  # fmt: skip
_FEATURES = itemgetter(  # the arguments of fonts.font_features, in its order
    "font_kerning", "font_variant_ligatures", "font_variant_position", "font_variant_caps",
    "font_variant_numeric", "font_variant_alternates", "font_variant_east_asian",
    "font_feature_settings",
)  # fmt: skip


def _font_key(style: Any) -> tuple[Any, ...]:
    """The cache key of `style`'s font description (TypeError if it cannot be one)."""
    key = ("font", *_FONT(style))
    hash(key)
    return key


def _features_key(style: Any) -> tuple[Any, ...]:
    """The cache key of `style`'s font features (TypeError if it cannot be one)."""
    key = ("features", *_FEATURES(style))
    hash(key)
    return key


def _context(cache: dict[Any, Any], line_break: Any, style: Any) -> tuple[Any, Any]:
    """The Pango context of `style`'s direction and language, and that language."""
    ffi, pango, gobject = line_break.ffi, line_break.pango, line_break.gobject
    override = style["font_language_override"]
    if override != "normal":
        language = line_break.LST_TO_ISO.get(override.lower(), override)
    else:
        language = style["lang"] or None
    key = ("context", style["direction"], language)
    found = cache.get(key)
    if found is None:
        context = ffi.gc(
            pango.pango_font_map_create_context(style.font_config.font_map),
            gobject.g_object_unref,
        )
        pango.pango_context_set_round_glyph_positions(context, False)
        pango.pango_context_set_base_dir(context, line_break.PANGO_DIRECTION[style["direction"]])
        if language:
            language_p, _bytes = line_break.unicode_to_char_p(language)
            pango_language = pango.pango_language_from_string(language_p)
            pango.pango_context_set_language(context, pango_language)
        else:
            pango_language = pango.pango_language_get_default()
        found = cache[key] = (context, pango_language)
    return found


def _set_decoration_metrics(layout: Any, line_break: Any, context: Any, description: Any) -> None:
    """The font metrics an underlined or struck-through text needs (as ``Layout.setup``)."""
    ffi, pango, units = line_break.ffi, line_break.pango, line_break.FROM_UNITS
    metrics = ffi.gc(
        pango.pango_context_get_metrics(context, description, layout.language),
        pango.pango_font_metrics_unref,
    )
    layout.ascent = units * pango.pango_font_metrics_get_ascent(metrics)
    layout.underline_position = units * pango.pango_font_metrics_get_underline_position(metrics)
    layout.strikethrough_position = units * (
        pango.pango_font_metrics_get_strikethrough_position(metrics)
    )
    layout.underline_thickness = units * pango.pango_font_metrics_get_underline_thickness(metrics)
    layout.strikethrough_thickness = units * (
        pango.pango_font_metrics_get_strikethrough_thickness(metrics)
    )


_REMEMBERED = "_evaltools_remembers_widths"  # marks WeasyPrint's preferred module as patched
_WIDTHS = "_evaltools_text_widths"  # a font configuration's remembered lines
_WIDTHS_SIZE = 65536
LINE_STYLE = (  # every property WeasyPrint's split_first_line and its Layout read
    "direction", "font_family", "font_feature_settings", "font_kerning",
    "font_language_override", "font_size", "font_stretch", "font_style",
    "font_variant_alternates", "font_variant_caps", "font_variant_east_asian",
    "font_variant_ligatures", "font_variant_numeric", "font_variant_position",
    "font_variation_settings", "font_weight", "hyphenate_character", "hyphenate_limit_chars",
    "hyphenate_limit_zone", "hyphens", "lang", "letter_spacing", "line_height",
    "overflow_wrap", "tab_size", "text_decoration_line", "white_space", "word_break",
    "word_spacing",
)  # fmt: skip
_LINE_STYLE = itemgetter(*LINE_STYLE)


def remember_text_widths(preferred: Any) -> None:
    """Make WeasyPrint's min- and max-content widths of text (module `preferred`) remember
    each measured line across layouts; once per process.

    To size a table's columns, WeasyPrint (70) sets every cell's text with Pango twice (its
    min- and its max-content width), in the probe that sizes wide tables and again in the
    report's layout, the same labels and numbers in every report. Only a line's width and
    where the next line starts are used there; here they are kept with the font
    configuration (the report's fonts, loaded once per process), keyed by the text, the
    arguments and every style property that setting the text reads (:data:`LINE_STYLE`), and
    reused: the same text in the same fonts and style breaks the same way.
    """
    if getattr(preferred, _REMEMBERED, False):
        return
    split = preferred.split_first_line

    def split_first_line(
        text: str,
        style: Any,
        context: Any,
        max_width: Any,
        justification_spacing: Any,
        is_line_start: bool = True,
        minimum: bool = False,
    ) -> tuple[Any, ...]:
        config = style.font_config
        found = getattr(config, _WIDTHS, None)
        if found is None or len(found) > _WIDTHS_SIZE:
            found = {}
            setattr(config, _WIDTHS, found)
        key: tuple[Any, ...] | None
        try:
            key = (text, max_width, justification_spacing, is_line_start, minimum)
            key += _LINE_STYLE(style)
            measured = found.get(key)
        except TypeError:  # something unhashable: measure, as WeasyPrint does
            key, measured = None, None
        if measured is None:
            line = split(text, style, context, max_width, justification_spacing,
                         is_line_start, minimum)  # fmt: skip
            if key is None:
                return line
            measured = found[key] = (line[2], line[3])
        return None, None, measured[0], measured[1], None, None

    preferred.split_first_line = split_first_line
    setattr(preferred, _REMEMBERED, True)
