"""Where everything sits on the drawn maps, in CSS pixels, computed from the view.

Every box on the wall map has a fixed size (text that would not fit is clipped
with an ellipsis), so the page size is known before a browser lays it out: a
screenshot or a PDF page of exactly `page_size(view)` holds the whole map and
nothing else. The templates take their sizes from here, never their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from percorso.journey.views import FlowView, IntegrationView, MapView

# The wall map: a label column on the left, then one column per phase.
PAD = 40
LABEL_W = 164
COL_W = 248
GAP = 28
MIN_WIDTH = 1040
HEADER_H = 156
PHASE_H = 76
LANE_PAD = 12
CARD_BASE_H = 124  # padding, label (2 lines), channel · device, department · system, counts
CARD_SCORES_H = 24  # NPS / sentiment chips, when any touchpoint has one
CARD_KPI_H = 18
CARD_GAP = 10
CHIP_H = 24
CHIP_GAP = 6
CHIPS_PER_ROW = 2
VOLUME_H = 88
CONVERSION_H = 76
TIME_H = 56
KPI_ROW_H = 40
PAIN_HEAD_H = 48
PAIN_ROW_H = 28
FOOTER_H = 36

# The integration map: systems on an ellipse, flows as curved arrows.
BOX_W = 196
BOX_H = 64
RING_MARGIN = 90
BEND = 36  # how far a flow bows to its left, so A→B and B→A do not overlap
BEND_PAIRED = 64  # ...and further when both directions are drawn, so their labels do not
BEND_STEP = 44  # further bow for each extra flow between the same two systems
TABLE_GAP = 28
TABLE_HEAD_H = 44
TABLE_ROW_H = 34


@dataclass(frozen=True)
class MapLayout:
    """The wall map's sizes: the grid's tracks and the page."""

    width: int
    height: int
    columns: int
    card_h: int
    scores: bool
    lanes: dict[str, int]  # lane name -> row height, in drawing order

    @property
    def grid_width(self) -> int:
        return LABEL_W + self.columns * (COL_W + GAP)


def _chip_lane(items: int) -> int:
    rows = max(1, math.ceil(items / CHIPS_PER_ROW))
    return 2 * LANE_PAD + rows * CHIP_H + (rows - 1) * CHIP_GAP


def map_layout(view: MapView) -> MapLayout:
    cells = [cell for phase in view.phases for cell in phase.touchpoints]
    scores = any(cell.nps is not None or cell.sentiment is not None for cell in cells)
    card_kpis = max((len(cell.kpis) for cell in cells), default=0)
    card_h = CARD_BASE_H + (CARD_SCORES_H if scores else 0) + card_kpis * CARD_KPI_H
    stacked = max((len(phase.touchpoints) for phase in view.phases), default=0)
    stacked = max(stacked, 1)
    lanes = {
        "touchpoints": 2 * LANE_PAD + stacked * card_h + (stacked - 1) * CARD_GAP,
        "channels": _chip_lane(max((len(p.channels) for p in view.phases), default=0)),
        "departments": _chip_lane(max((len(p.departments) for p in view.phases), default=0)),
        "systems": _chip_lane(max((len(p.systems) for p in view.phases), default=0)),
        "volume": VOLUME_H,
        "conversion": CONVERSION_H,
        "time": TIME_H,
        "kpis": 2 * LANE_PAD + max([1, *(len(p.kpis) for p in view.phases)]) * KPI_ROW_H,
    }
    columns = len(view.phases)
    grid_width = LABEL_W + columns * (COL_W + GAP)
    footer = PAIN_HEAD_H + max(1, len(view.pain_points)) * PAIN_ROW_H + FOOTER_H
    height = 2 * PAD + HEADER_H + PHASE_H + sum(lanes.values()) + footer
    width = max(MIN_WIDTH, 2 * PAD + grid_width)
    return MapLayout(width, height, columns, card_h, scores, lanes)


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class SystemBox:
    id: str
    x: float  # top-left corner
    y: float


@dataclass(frozen=True)
class FlowPath:
    index: int  # position in view.flows, for the table's numbers
    d: str  # SVG path
    label: Point  # where the coverage label is centred
    width: float  # stroke width, from the flow's population


@dataclass(frozen=True)
class IntegrationLayout:
    width: int
    height: int
    svg_width: int
    svg_height: int
    boxes: list[SystemBox]
    paths: list[FlowPath]  # flows between two drawn systems; others are only in the table


def _ring(count: int) -> tuple[float, float]:
    """The ellipse's radii: wider with more systems, so boxes do not touch."""
    if count <= 1:
        return 0.0, 0.0
    # Room for a box and a flow's label between neighbours along the ring.
    rx = max(340.0, count * (BOX_W + 170) / (2 * math.pi))
    # Two systems sit side by side: height only for the flows bowing between them.
    return rx, 90.0 if count == 2 else rx * 0.68


def _border(centre: Point, toward: Point) -> Point:
    """Where the line from a box's centre toward a point leaves the box."""
    dx, dy = toward.x - centre.x, toward.y - centre.y
    if dx == 0 and dy == 0:
        return centre
    scale = min(
        (BOX_W / 2 + 4) / abs(dx) if dx else math.inf,
        (BOX_H / 2 + 4) / abs(dy) if dy else math.inf,
    )
    return Point(centre.x + dx * scale, centre.y + dy * scale)


def _curve(a: Point, b: Point, bend: float) -> tuple[str, Point]:
    """A quadratic curve from box a to box b bowing `bend` px to its left, and its midpoint."""
    length = math.hypot(b.x - a.x, b.y - a.y) or 1.0
    normal = Point((b.y - a.y) / length, -(b.x - a.x) / length)
    # The curve's apex sits halfway to its control point.
    control = Point(
        (a.x + b.x) / 2 + normal.x * bend * 2,
        (a.y + b.y) / 2 + normal.y * bend * 2,
    )
    start, end = _border(a, control), _border(b, control)
    middle = Point(
        0.25 * start.x + 0.5 * control.x + 0.25 * end.x,
        0.25 * start.y + 0.5 * control.y + 0.25 * end.y,
    )
    d = f"M {start.x:.1f} {start.y:.1f} Q {control.x:.1f} {control.y:.1f} {end.x:.1f} {end.y:.1f}"
    return d, middle


def integration_layout(view: IntegrationView) -> IntegrationLayout:
    count = len(view.systems)
    rx, ry = _ring(count)
    svg_width = int(2 * rx + BOX_W + 2 * RING_MARGIN)
    svg_height = int(2 * ry + BOX_H + 2 * RING_MARGIN)
    centre = Point(svg_width / 2, svg_height / 2)
    # Two systems face each other left and right; more go clockwise from the top.
    start = math.pi if count == 2 else -math.pi / 2
    centres: dict[str, Point] = {}
    boxes = []
    for i, system in enumerate(view.systems):
        angle = start + 2 * math.pi * i / max(count, 1)
        at = Point(centre.x + rx * math.cos(angle), centre.y + ry * math.sin(angle))
        centres[system.id] = at
        boxes.append(SystemBox(system.id, at.x - BOX_W / 2, at.y - BOX_H / 2))
    most = max((flow.population for flow in view.flows), default=0)
    seen: dict[tuple[str, str], int] = {}
    pairs = {(f.source, f.target) for f in view.flows if _drawable(f, centres)}
    paths = []
    for index, flow in enumerate(view.flows):
        if not _drawable(flow, centres):
            continue
        repeat = seen.get((flow.source, flow.target), 0)
        seen[(flow.source, flow.target)] = repeat + 1
        bend = BEND_PAIRED if (flow.target, flow.source) in pairs else BEND
        d, middle = _curve(centres[flow.source], centres[flow.target], bend + repeat * BEND_STEP)
        width = 2.0 + 4.0 * (flow.population / most if most else 0.0)
        paths.append(FlowPath(index, d, middle, round(width, 1)))
    width = max(MIN_WIDTH, svg_width + 2 * PAD)
    height = (
        2 * PAD
        + HEADER_H
        + svg_height
        + TABLE_GAP
        + TABLE_HEAD_H
        + max(1, len(view.flows)) * TABLE_ROW_H
        + FOOTER_H
    )
    return IntegrationLayout(width, height, svg_width, svg_height, boxes, paths)


def _drawable(flow: FlowView, centres: dict[str, Point]) -> bool:
    return flow.source in centres and flow.target in centres and flow.source != flow.target


def page_size(view: MapView | IntegrationView) -> tuple[int, int]:
    """The page that holds the whole drawn map, in CSS pixels (width, height)."""
    if isinstance(view, MapView):
        layout = map_layout(view)
        return layout.width, layout.height
    drawn = integration_layout(view)
    return drawn.width, drawn.height
