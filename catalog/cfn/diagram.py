"""A picture of a CloudFormation template, like CloudFormation Designer: a graph, a layout, an SVG.

An Edge runs from the node whose definition holds a reference (`source`) to the node it refers to
or depends on (`target`). The drawing is layered left to right in creation order: what a node uses
stands to its left and each arrow points from the node used to the node using it. Cycles (which
CloudFormation rejects) are broken for the layout and their edges drawn in red.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

EDGE_KINDS = ("Ref", "GetAtt", "Sub", "DependsOn")
CATEGORIES = ("compute", "network", "storage", "database", "security", "management", "other")
_SERVICES = {  # category -> AWS services (the middle part of a resource type)
    "compute": "EC2 Lambda ECS EKS AutoScaling Batch ElasticBeanstalk Lightsail AppRunner Serverless EMR",
    "network": "ElasticLoadBalancing ElasticLoadBalancingV2 Route53 CloudFront ApiGateway ApiGatewayV2 DirectConnect "
               "GlobalAccelerator AppMesh ServiceDiscovery NetworkFirewall",
    "storage": "S3 EFS FSx Backup Glacier StorageGateway ECR",
    "database": "RDS DynamoDB ElastiCache Redshift DocDB Neptune MemoryDB Timestream OpenSearchService Elasticsearch",
    "security": "IAM KMS SecretsManager CertificateManager WAF WAFv2 Cognito GuardDuty SecurityHub Shield SSO",
    "management": "CloudWatch Logs CloudTrail Config SSM CloudFormation Events Scheduler Organizations ServiceCatalog",
}
_CATEGORY_OF = {service: category for category, names in _SERVICES.items() for service in names.split()}
_EC2_CATEGORY = [(re.compile(r"^(SecurityGroup|KeyPair)"), "security"), (re.compile(r"^(Volume|Snapshot)"), "storage"),
                 (re.compile(r"^(VPC|Subnet|Route|InternetGateway|NatGateway|EIP|NetworkAcl|NetworkInterface|VPN|"
                             r"TransitGateway|CustomerGateway|DHCPOptions|EgressOnly|PrefixList|FlowLog)"), "network")]
_SHORT_SERVICE = {"ElasticLoadBalancing": "ELB", "ElasticLoadBalancingV2": "ELBv2", "CertificateManager": "ACM"}
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NOT_WALKED = ("Type", "Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy")


@dataclass(frozen=True)
class Node:
    """A resource, or (drawn smaller) a parameter or an output; outputs' ids are "Outputs/<name>"."""

    id: str
    name: str
    kind: str  # "resource" | "parameter" | "output"
    type: str  # e.g. "AWS::EC2::Instance", a parameter's Type, "" for outputs
    service: str  # e.g. "EC2"
    category: str  # one of CATEGORIES for resources; "parameter" or "output" otherwise


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    kind: str  # one of EDGE_KINDS


@dataclass(frozen=True)
class TemplateGraph:
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()


def _resource_node(name: str, body: Mapping) -> Node:
    resource_type = body["Type"] if isinstance(body.get("Type"), str) else "Unknown"
    parts = resource_type.split("::")
    if parts[0] == "Custom" or resource_type == "AWS::CloudFormation::CustomResource":
        return Node(name, name, "resource", resource_type, "Custom", "management")
    service = parts[1] if len(parts) > 2 else parts[0] or "Unknown"
    category = _CATEGORY_OF.get(service, "other") if parts[0] == "AWS" else "other"
    if service == "EC2":
        category = next((c for pattern, c in _EC2_CATEGORY if pattern.match(parts[-1])), category)
    return Node(name, name, "resource", resource_type, _SHORT_SERVICE.get(service, service), category)


def _getatt_target(value: Any) -> str | None:
    if isinstance(value, str):
        return value.split(".", 1)[0]
    return str(value[0]) if isinstance(value, list) and value and isinstance(value[0], str) else None


def _references(node: Any, targets: set[str]) -> Iterator[tuple[str, str]]:
    """(target, kind) for each reference to one of `targets` anywhere inside a value."""
    items = node.items() if isinstance(node, Mapping) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        if key == "Ref" and isinstance(value, str) and value in targets:
            yield str(value), "Ref"
        elif key == "Fn::GetAtt" and _getatt_target(value) in targets:
            yield str(_getatt_target(value)), "GetAtt"
        elif key == "Fn::Sub":
            pair = isinstance(value, list) and len(value) == 2 and isinstance(value[1], Mapping)
            text, variables = (value[0], value[1]) if pair else (value, {})
            for variable in _SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
                name = variable.split(".", 1)[0].strip()
                if not variable.startswith("!") and name not in variables and name in targets:
                    yield name, "Sub"
            value = list(variables.values())
        yield from _references(value, targets)


def _sections(template: Mapping, *names: str) -> Iterator[dict[str, Mapping]]:
    for name in names:
        section = template.get(name)
        yield {str(k): v for k, v in section.items() if isinstance(v, Mapping)} if isinstance(section, Mapping) else {}


def template_graph(template: Mapping, *, include_parameters: bool = False,
                   include_outputs: bool = False) -> TemplateGraph:
    """Resources (optionally parameters and outputs too) and the references between them; pseudo
    parameters, references to undeclared names and self-references are left out."""
    resources, parameters, outputs = _sections(template, "Resources", "Parameters", "Outputs")
    parameters = {k: v for k, v in parameters.items() if k not in resources} if include_parameters else {}
    outputs = outputs if include_outputs else {}
    nodes = [_resource_node(name, body) for name, body in resources.items()]
    nodes += [Node(name, name, "parameter", str(body.get("Type", "")), "Parameter", "parameter")
              for name, body in parameters.items()]
    nodes += [Node(f"Outputs/{name}", name, "output", "", "Output", "output") for name in outputs]
    targets, edges = set(resources) | set(parameters), set()
    for name, body in resources.items():
        depends = body.get("DependsOn") if isinstance(body.get("DependsOn"), list) else [body.get("DependsOn")]
        edges |= {Edge(name, str(d), "DependsOn") for d in depends if isinstance(d, str) and d in resources}
        walked = [value for key, value in body.items() if key not in _NOT_WALKED]
        edges |= {Edge(name, target, kind) for target, kind in _references(walked, targets)}
    for name, body in outputs.items():
        edges |= {Edge(f"Outputs/{name}", target, kind) for target, kind in _references(body, targets)}
    order = {"parameter": 0, "resource": 1, "output": 2}
    return TemplateGraph(tuple(sorted(nodes, key=lambda n: (order[n.kind], n.id))),
                         tuple(sorted(e for e in edges if e.source != e.target)))


# ---------------------------------------------------------------- layout

_NODE_W, _RESOURCE_H, _SMALL_H, _ROW_GAP, _COL_GAP, _MARGIN, _MAX_ROWS = 196, 50, 32, 16, 92, 24, 12
_MAX_SLOTS = 8  # an edge crossing more layers than this is drawn straight across, to bound the work


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class _Layout:
    boxes: dict[str, _Box]  # the nodes', and those of the slots long edges pass through
    back: set[tuple[str, str]]  # (user, used) pairs that closed a cycle
    chains: dict[tuple[str, str], list[str]]  # (used, user) -> its slots in the columns between them


def _rank(ids: list[str], deps: dict[str, list[str]]) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Longest-path layers (a node right of all it uses), by an iterative DFS whose back edges break cycles."""
    state: dict[str, int] = {}  # 1 while on the DFS stack, 2 once finished
    layer: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in ids:
        if root in state:
            continue
        state[root], stack = 1, [(root, iter(deps[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                layer[node] = max((layer[c] + 1 for c in deps[node] if (node, c) not in back), default=0)
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(deps[child])))
    return layer, back


def _order(layers: list[list[str]], neighbours: dict[str, set[str]], sweeps: int = 4) -> list[list[str]]:
    """Sort each layer by the mean position of its neighbours in the layer before, then after, ..."""
    position = {n: (i + 0.5) / len(layer) for layer in layers for i, n in enumerate(layer)}

    def centre(node: str, fixed: set[str]) -> float:
        near = [position[m] for m in neighbours[node] if m in fixed]
        return sum(near) / len(near) if near else position[node]

    for sweep in range(sweeps):
        step = 1 if sweep % 2 == 0 else -1
        for index in range(1, len(layers)) if step == 1 else range(len(layers) - 2, -1, -1):
            fixed = set(layers[index - step])
            layers[index] = sorted(layers[index], key=lambda n: (centre(n, fixed), position[n]))
            position.update({n: (i + 0.5) / len(layers[index]) for i, n in enumerate(layers[index])})
    return layers


def _place(layers: list[list[str]], real: set[str], height: dict[str, float], top: float) -> dict[str, _Box]:
    """Columns left to right, a layer of more than _MAX_ROWS nodes wrapped into several."""
    columns: list[list[str]] = []
    for layer in layers:
        columns.append([])
        count = 0
        for n in layer:
            if n in real and count == _MAX_ROWS:
                columns.append([])
                count = 0
            columns[-1].append(n)
            count += n in real
    spans: list[tuple[list[float], float]] = []  # each column's offsets and height; slots pack tightly
    for column in columns:
        offsets, y = [], 0.0
        for i, n in enumerate(column):
            y += 0 if i == 0 else _ROW_GAP if n in real or column[i - 1] in real else 4
            offsets.append(y)
            y += height[n]
        spans.append((offsets, y))
    tallest, boxes = max(size for _, size in spans), {}
    for index, (column, (offsets, size)) in enumerate(zip(columns, spans)):
        for n, offset in zip(column, offsets):
            y = top + min((tallest - size) / 2, 160) + offset  # centred, unless far shorter
            boxes[n] = _Box(_MARGIN + index * (_NODE_W + _COL_GAP), y, _NODE_W, height[n])
    return boxes


def _slots(pairs: list[tuple[str, str]], layer: dict[str, int], back: set[tuple[str, str]],
           height: dict[str, float]) -> tuple[dict[tuple[str, str], list[str]], dict[str, set[str]]]:
    """A slot in each layer a long edge crosses, so that it runs between boxes, not through them;
    and the neighbours (along edges, via slots) the barycentre ordering pulls together."""
    neighbours: dict[str, set[str]] = {n: set() for n in height}
    chains: dict[tuple[str, str], list[str]] = {}
    for used, user in pairs:
        span = [] if (user, used) in back else list(range(layer[used] + 1, layer[user]))
        chains[(used, user)] = [f"\x00{used}\x00{user}\x00{k}" for k in span] if len(span) <= _MAX_SLOTS else []
        for k, slot in zip(span, chains[(used, user)]):
            layer[slot], height[slot], neighbours[slot] = k, 2, set()
        path = [used, *chains[(used, user)], user]
        for a, b in zip(path, path[1:]):
            neighbours[a].add(b)
            neighbours[b].add(a)
    return chains, neighbours


def _layout(graph: TemplateGraph, top: float) -> _Layout:
    """Longest-path layers with the outputs last, slots for long edges, barycentre order, boxes."""
    ids = [node.id for node in graph.nodes]
    deps: dict[str, list[str]] = {n: [] for n in ids}
    for edge in graph.edges:
        deps[edge.source].append(edge.target)
    layer, back = _rank(ids, deps)
    last = max((layer[node.id] + 1 for node in graph.nodes if node.kind != "output"), default=0)
    layer.update({node.id: last for node in graph.nodes if node.kind == "output"})
    pairs = sorted({(edge.target, edge.source) for edge in graph.edges})  # (used, user)
    degree = Counter(n for pair in pairs for n in pair)
    height: dict[str, float] = {node.id: _SMALL_H if node.kind != "resource" else
                                min(max(_RESOURCE_H, 6 * degree[node.id]), 2 * _RESOURCE_H) for node in graph.nodes}
    chains, neighbours = _slots(pairs, layer, back, height)
    layers: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for n, k in layer.items():
        layers[k].append(n)
    return _Layout(_place(_order(layers, neighbours), set(ids), height, top), back, chains)


# ---------------------------------------------------------------- SVG

_COLOURS = {"compute": ("#c2410c", "#fff7ed"), "network": ("#6d28d9", "#f5f3ff"), "storage": ("#15803d", "#f0fdf4"),
            "database": ("#1d4ed8", "#eff6ff"), "security": ("#b91c1c", "#fef2f2"),
            "management": ("#be185d", "#fdf2f8"), "other": ("#4b5563", "#f9fafb"),
            "parameter": ("#475569", "#f1f5f9"), "output": ("#0f766e", "#f0fdfa")}
_EDGE_STYLE = {"Ref": ("#475569", ""), "GetAtt": ("#1d4ed8", ""), "Sub": ("#7c3aed", "2 3"),
               "DependsOn": ("#b45309", "7 4"), "cycle": ("#dc2626", "")}
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
_LEGEND_H = 64


def _esc(text: Any) -> str:
    """XML-escaped text, safe in element content and in quoted attributes."""
    return escape(_INVALID_XML.sub("\ufffd", str(text)), {'"': "&quot;", "'": "&#39;"})


def _fit(text: str, width: float, char_width: float) -> str:
    limit = max(int(width / char_width), 4)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _node_svg(node: Node, box: _Box) -> str:
    stroke, fill = _COLOURS.get(node.category, _COLOURS["other"])
    x, y, w, h = box.x, box.y, box.w, box.h
    head = f'<g><title>{_esc(f"{node.name}{chr(10)}{node.type or node.kind}")}</title>'
    if node.kind != "resource":
        return (f'{head}<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="{h / 2}" fill="{fill}" stroke="{stroke}" '
                f'stroke-width="1.2"/><text x="{x + 14}" y="{y + h / 2 + 4}" font-size="11" fill="{stroke}">'
                f'{_esc(node.kind[:1].upper())}</text><text x="{x + 28}" y="{y + h / 2 + 4}" font-size="12" '
                f'fill="#111827">{_esc(_fit(node.name, w - 40, 6.8))}</text></g>')
    return (f'{head}<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.4"/><rect x="{x}" y="{y}" width="7" height="{h}" rx="3" fill="{stroke}"/>'
            f'<text x="{x + 16}" y="{y + h / 2 - 4}" font-size="13" font-weight="600" fill="#111827">'
            f'{_esc(_fit(node.name, w - 26, 7.6))}</text><text x="{x + 16}" y="{y + h / 2 + 14}" font-size="11" '
            f'fill="{stroke}">{_esc(_fit(node.type.removeprefix("AWS::"), w - 26, 6.4))}</text></g>')


def _ports(layout: _Layout) -> dict[tuple[str, str, str], float]:
    """Spread the arrows leaving (right side) and entering (left side) each box over its height."""
    boxes, ports = layout.boxes, {}
    for side in ("out", "in"):
        groups: dict[str, list[tuple[float, str, tuple[str, str]]]] = {}
        for (used, user), chain in layout.chains.items():
            node, near = (used, (chain or [user])[0]) if side == "out" else (user, (chain or [used])[-1])
            groups.setdefault(node, []).append((boxes[near].y + boxes[near].h / 2, near, (used, user)))
        for node, group in groups.items():
            for i, (_, _, pair) in enumerate(sorted(group)):
                ports[(side, *pair)] = boxes[node].y + boxes[node].h * (i + 1) / (len(group) + 1)
    return ports


def _route(start: tuple[float, float], through: list[_Box], end: tuple[float, float], floor: float) -> str:
    """Curves across the gaps between columns, straight through each slot the edge holds; an edge
    going backwards (a cycle) runs along `floor`, under the boxes."""
    (x, y), path = start, f"M{start[0]:.1f},{start[1]:.1f}"
    if end[0] < x:
        return (f"{path} C{x + 20:.1f},{y:.1f} {x + 20:.1f},{floor:.1f} {x:.1f},{floor:.1f} L{end[0]:.1f},{floor:.1f}"
                f" C{end[0] - 20:.1f},{floor:.1f} {end[0] - 20:.1f},{end[1]:.1f} {end[0]:.1f},{end[1]:.1f}")
    for box in [*through, None]:
        tx, ty = (box.x, box.y + box.h / 2) if box else end
        bend = (tx - x) / 2 if tx - x > 40 else 90
        path += f" C{x + bend:.1f},{y:.1f} {tx - bend:.1f},{ty:.1f} {tx:.1f},{ty:.1f}"
        if box:
            x, y = box.x + box.w, ty
            path += f" L{x:.1f},{y:.1f}"
    return path


def _edges_svg(graph: TemplateGraph, layout: _Layout, prefix: str) -> list[str]:
    kinds: dict[tuple[str, str], list[str]] = {}
    for edge in graph.edges:
        kinds.setdefault((edge.target, edge.source), []).append(edge.kind)  # drawn from used to user
    ports, boxes, out = _ports(layout), layout.boxes, []
    floor = max(box.y + box.h for box in boxes.values()) + 4
    for (used, user), names in sorted(kinds.items()):
        style = "cycle" if (user, used) in layout.back else min(names, key=EDGE_KINDS.index)
        colour, dash = _EDGE_STYLE[style]
        start = (boxes[used].x + boxes[used].w, ports[("out", used, user)])
        end = (boxes[user].x - 2, ports[("in", used, user)])
        title = f"{user} uses {used}: {', '.join(names)}" + (" (dependency cycle)" if style == "cycle" else "")
        floor += 10 if style == "cycle" else 0
        path = _route(start, [boxes[slot] for slot in layout.chains[(used, user)]], end, floor)
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6" '
                   f'stroke-dasharray="{dash or "none"}" '
                   f'marker-end="url(#{prefix}-{style})"><title>{_esc(title)}</title></path>')
    return out


def _legend_svg(graph: TemplateGraph, back: set[tuple[str, str]]) -> tuple[list[str], float]:
    """Two rows: the colours of the categories present, then the styles of the edge kinds present."""
    rows = [[c for c in (*CATEGORIES, "parameter", "output") if any(n.category == c for n in graph.nodes)],
            [k for k in EDGE_KINDS if any(e.kind == k for e in graph.edges)] + (["cycle"] if back else [])]
    out, right = ['<text x="24" y="22" font-size="12" font-weight="600" fill="#374151">Legend</text>'], 0.0
    for row, items in enumerate(rows):
        x, y = 84.0, 22 + 26 * row
        for item in items:
            label = "dependency cycle" if item == "cycle" else item
            (stroke, fill), (colour, dash) = _COLOURS.get(item, ("", "")), _EDGE_STYLE.get(item, ("", ""))
            out.append(f'<rect x="{x}" y="{y - 11}" width="14" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>'
                       if row == 0 else f'<line x1="{x - 16}" y1="{y - 4}" x2="{x + 14}" y2="{y - 4}" '
                       f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash or "none"}"/>')
            out.append(f'<text x="{x + 20}" y="{y}" font-size="12" fill="#374151">{_esc(label)}</text>')
            x += (40 if row == 0 else 56) + 7 * len(label)
        right = max(right, x)
    if rows[1]:
        out.append(f'<text x="{x + 6}" y="48" font-size="11" fill="#6b7280">arrows: from what is used to its '
                   'user</text>')
    return out, right + (240 if rows[1] else 0)


def render_svg(graph: TemplateGraph, *, id_prefix: str = "cfn") -> str:
    """A self-contained SVG of the graph: no scripts, no external references, every text escaped."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "", id_prefix) or "cfn"
    ids = {node.id for node in graph.nodes}
    edges = tuple(e for e in graph.edges if {e.source, e.target} <= ids and e.source != e.target)
    graph = TemplateGraph(graph.nodes, edges)
    if not graph.nodes:
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="360" height="60" viewBox="0 0 360 60" role="img">'
                f'<title>Template diagram</title><text x="20" y="35" font-family="{_FONT}" font-size="14" '
                'fill="#4b5563">This template declares no resources.</text></svg>')
    layout = _layout(graph, _LEGEND_H + _MARGIN)
    legend, legend_width = _legend_svg(graph, layout.back)
    width = max(max(b.x + b.w for b in layout.boxes.values()) + _MARGIN, legend_width)
    height = max(b.y + b.h for b in layout.boxes.values()) + _MARGIN + 10 * len(layout.back)
    markers = "".join(f'<marker id="{prefix}-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
                      f'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
                      f'</marker>' for kind, (colour, _) in _EDGE_STYLE.items())
    resources = sum(node.kind == "resource" for node in graph.nodes)
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" font-family="{_FONT}">',
        f"<title>Template diagram: {resources} resources, {len(graph.edges)} references</title>",
        f'<defs>{markers}</defs><rect width="100%" height="100%" fill="#ffffff"/>', *legend,
        *_edges_svg(graph, layout, prefix), *(_node_svg(n, layout.boxes[n.id]) for n in graph.nodes), "</svg>"])
