// Visual workflow designer: React Flow canvas, step palette and dagre auto-layout.
//
// Wrapped by console/workflows/flow_designer.py. The server holds the graph; this component
// keeps a local copy that it resets whenever the props change and sends the whole graph
// back through onGraphChange(steps, transitions) after every edit.
import React, { useCallback, useEffect, useRef, useState } from "react";
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  MiniMap,
  Panel,
  Position,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useNodesInitialized,
  useReactFlow,
} from "@xyflow/react";
import dagre from "@dagrejs/dagre";

const KINDS = ["start", "task", "gateway", "end"];
const PALETTE_LABEL = { start: "开始", task: "环节", gateway: "条件分支", end: "结束" };
const DEFAULT_NAME = { start: "开始", task: "新环节", gateway: "条件分支", end: "结束" };
// Width and height of a node before it has been measured (used for drops and layout).
const NODE_SIZE = {
  start: [96, 44],
  task: [176, 60],
  gateway: [150, 72],
  end: [96, 44],
};
const KIND_COLOR = {
  start: "#30a46c",
  task: "#3e63dd",
  gateway: "#f76b15",
  end: "#646464",
};
const ERROR_COLOR = "#e5484d";
const SELECTED_COLOR = "#3e63dd";
const DND_TYPE = "application/x-bdc-step-kind";
const FIT_OPTIONS = { padding: 0.2, maxZoom: 1 };
// How long an edit the server has not answered with new props stays on the canvas.
const REVERT_MS = 2500;

function randomId(prefix, taken) {
  for (;;) {
    const id = prefix + Math.random().toString(36).slice(2, 10);
    if (!taken.has(id)) return id;
  }
}

function num(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

function roundedSteps(steps) {
  return steps.map((s) => ({ ...s, x: Math.round(num(s.x)), y: Math.round(num(s.y)) }));
}

function DiamondShape({ color, fill, strokeWidth }) {
  return (
    <svg
      width="100%"
      height="100%"
      viewBox="0 0 150 72"
      preserveAspectRatio="none"
      style={{ position: "absolute", inset: 0, overflow: "visible" }}
      aria-hidden="true"
    >
      <polygon
        points="75,1 149,36 75,71 1,36"
        fill={fill}
        stroke={color}
        strokeWidth={strokeWidth}
        vectorEffect="non-scaling-stroke"
      />
    </svg>
  );
}

function shapeStyle(kind, color, highlighted, hasError) {
  const [width, height] = NODE_SIZE[kind];
  const border = `${highlighted || hasError ? 2 : 1.5}px solid ${color}`;
  const base = {
    position: "relative",
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    boxSizing: "border-box",
    textAlign: "center",
    fontSize: 13,
    lineHeight: 1.3,
    color: "#1c2024",
    boxShadow: highlighted ? `0 0 0 3px ${SELECTED_COLOR}40` : "0 1px 2px #0000001a",
  };
  if (kind === "gateway") {
    // The diamond is drawn by an SVG behind the text; no box shadow on the square.
    return { ...base, width, height, boxShadow: "none", padding: "0 28px" };
  }
  if (kind === "task") {
    return {
      ...base,
      minWidth: width,
      maxWidth: 240,
      minHeight: height,
      padding: "8px 12px",
      borderRadius: 8,
      border,
      background: "#ffffff",
    };
  }
  // start / end: round pills.
  return {
    ...base,
    minWidth: width,
    height,
    padding: "0 16px",
    borderRadius: 999,
    border: kind === "end" ? `${highlighted || hasError ? 3 : 2.5}px double ${color}` : border,
    background: kind === "start" ? "#e9f9ee" : "#f0f0f0",
  };
}

const errorTextStyle = {
  position: "relative",
  marginTop: 4,
  fontSize: 11,
  lineHeight: 1.3,
  color: ERROR_COLOR,
  textAlign: "center",
  wordBreak: "break-all",
};

function StepNode({ id, data, selected }) {
  const { step, error, highlighted, readOnly, direction, roleLabels } = data;
  const kind = KINDS.includes(step.kind) ? step.kind : "task";
  const active = highlighted || selected;
  const hasError = Boolean(error);
  const color = hasError ? ERROR_COLOR : active ? SELECTED_COLOR : KIND_COLOR[kind];
  const horizontal = direction === "LR";
  const roles =
    kind === "task" && Array.isArray(step.roles)
      ? step.roles.filter((r) => typeof r === "string" && r)
      : [];
  const name = step.name || DEFAULT_NAME[kind];
  const handleStyle = {
    width: 10,
    height: 10,
    background: "#ffffff",
    border: `2px solid ${color}`,
    visibility: readOnly ? "hidden" : "visible",
  };
  return (
    <div
      data-testid={`step-${id}`}
      data-kind={kind}
      data-selected={active ? "true" : "false"}
      title={hasError ? `${name}：${error}` : name}
      style={{
        position: "relative",
        display: "flex",
        flexDirection: "column",
        alignItems: "center",
      }}
    >
      {kind !== "start" && (
        <Handle
          type="target"
          position={horizontal ? Position.Left : Position.Top}
          isConnectable={!readOnly}
          data-testid={`handle-target-${id}`}
          style={handleStyle}
        />
      )}
      <div style={shapeStyle(kind, color, active, hasError)}>
        {kind === "gateway" && (
          <DiamondShape
            color={color}
            fill={active ? "#fff1e7" : "#fff7ed"}
            strokeWidth={active || hasError ? 2 : 1.5}
          />
        )}
        <div style={{ position: "relative", fontWeight: 600, wordBreak: "break-all" }}>{name}</div>
        {roles.length > 0 && (
          <div
            data-testid={`step-roles-${id}`}
            style={{ position: "relative", fontSize: 11, color: "#60646c", marginTop: 2 }}
          >
            {roles.map((r) => (roleLabels && roleLabels[r]) || r).join("、")}
          </div>
        )}
        {hasError && kind === "task" && (
          <div data-testid={`step-error-${id}`} role="alert" style={errorTextStyle}>
            {error}
          </div>
        )}
      </div>
      {hasError && kind !== "task" && (
        // Below the shape, outside the node's box, so handles stay on the shape.
        <div
          data-testid={`step-error-${id}`}
          role="alert"
          style={{
            ...errorTextStyle,
            position: "absolute",
            top: "calc(100% + 8px)",
            width: 180,
            background: "#ffffffcc",
          }}
        >
          {error}
        </div>
      )}
      {kind !== "end" && (
        <Handle
          type="source"
          position={horizontal ? Position.Right : Position.Bottom}
          isConnectable={!readOnly}
          data-testid={`handle-source-${id}`}
          style={handleStyle}
        />
      )}
    </div>
  );
}

const NODE_TYPES = { step: StepNode };

const paletteItemStyle = (kind) => ({
  display: "flex",
  alignItems: "center",
  justifyContent: "center",
  height: 36,
  marginBottom: 10,
  fontSize: 13,
  cursor: "grab",
  userSelect: "none",
  background: "#ffffff",
  border: `1.5px solid ${KIND_COLOR[kind]}`,
  borderRadius: kind === "task" ? 8 : kind === "gateway" ? 2 : 999,
  transform: kind === "gateway" ? "skewX(-12deg)" : undefined,
});

function Palette({ onAdd }) {
  const onDragStart = (event, kind) => {
    event.dataTransfer.setData(DND_TYPE, kind);
    event.dataTransfer.setData("text/plain", kind);
    event.dataTransfer.effectAllowed = "move";
  };
  return (
    <div
      data-testid="designer-palette"
      style={{
        width: 112,
        flex: "none",
        padding: 12,
        boxSizing: "border-box",
        borderRight: "1px solid #e0e1e6",
        background: "#f9f9fb",
      }}
    >
      <div style={{ fontSize: 12, color: "#60646c", marginBottom: 10 }}>拖到画布上</div>
      {KINDS.map((kind) => (
        <div
          key={kind}
          draggable
          role="button"
          tabIndex={0}
          title={`拖到画布上添加“${PALETTE_LABEL[kind]}”，或单击添加`}
          data-testid={`palette-${kind}`}
          onDragStart={(event) => onDragStart(event, kind)}
          onClick={() => onAdd(kind)}
          onKeyDown={(event) => {
            if (event.key === "Enter" || event.key === " ") {
              event.preventDefault();
              onAdd(kind);
            }
          }}
          style={paletteItemStyle(kind)}
        >
          <span style={kind === "gateway" ? { transform: "skewX(12deg)" } : undefined}>
            {PALETTE_LABEL[kind]}
          </span>
        </div>
      ))}
    </div>
  );
}

function Designer(props) {
  const {
    steps,
    transitions,
    errors,
    roleLabels,
    selected = "",
    readOnly = false,
    direction = "TB",
    onGraphChange,
    onSelect,
    id,
    className,
    style,
  } = props;
  const rf = useReactFlow();

  // Latest callbacks, so handlers below need not be recreated on every render.
  const callbacks = useRef({ onGraphChange, onSelect });
  callbacks.current = { onGraphChange, onSelect };

  // Local copy of the server's graph, edited optimistically and reset whenever the
  // props change. Reflex keeps the identity of a value re-sent unchanged, so a handler
  // that refuses an edit does not change the props: the copy then falls back to the
  // props REVERT_MS after the last edit.
  const propSteps = Array.isArray(steps) ? steps : [];
  const propTransitions = Array.isArray(transitions) ? transitions : [];
  const propsKey = JSON.stringify([propSteps, propTransitions]);
  const propsRef = useRef({ steps: propSteps, transitions: propTransitions, key: propsKey });
  propsRef.current = { steps: propSteps, transitions: propTransitions, key: propsKey };
  const [graph, setGraph] = useState({ steps: propSteps, transitions: propTransitions });
  const graphRef = useRef(graph);
  const revertTimer = useRef(null);
  const resetToProps = useCallback(() => {
    const { steps: s, transitions: t } = propsRef.current;
    const next = { steps: s, transitions: t };
    graphRef.current = next;
    setGraph(next);
  }, []);
  useEffect(() => {
    window.clearTimeout(revertTimer.current);
    resetToProps();
  }, [propsKey, resetToProps]);
  useEffect(() => () => window.clearTimeout(revertTimer.current), []);

  const commit = useCallback(
    (update) => {
      const next = update(graphRef.current);
      if (!next) return;
      const rounded = { steps: roundedSteps(next.steps), transitions: next.transitions };
      graphRef.current = rounded;
      setGraph(rounded);
      window.clearTimeout(revertTimer.current);
      revertTimer.current = window.setTimeout(() => {
        const local = graphRef.current;
        if (JSON.stringify([local.steps, local.transitions]) !== propsRef.current.key) {
          resetToProps();
        }
      }, REVERT_MS);
      if (callbacks.current.onGraphChange) {
        callbacks.current.onGraphChange(rounded.steps, rounded.transitions);
      }
    },
    [resetToProps],
  );

  // React Flow nodes and edges, rebuilt from the local graph. Measured sizes, React
  // Flow's own selection and the position of a node being dragged survive a rebuild.
  const [nodes, setNodes] = useState([]);
  const [edges, setEdges] = useState([]);
  const errorMap = errors && typeof errors === "object" ? errors : {};
  const errorsKey = JSON.stringify(errorMap);
  const labelMap = roleLabels && typeof roleLabels === "object" ? roleLabels : {};
  const labelsKey = JSON.stringify(labelMap);
  const lastSelected = useRef(selected);
  const fitted = useRef(false);
  useEffect(() => {
    const selectedChanged = lastSelected.current !== selected;
    lastSelected.current = selected;
    setNodes((previous) => {
      const byId = new Map(previous.map((n) => [n.id, n]));
      // Another workflow loaded into the same designer: fit the view to it again.
      if (previous.length > 0 && !graph.steps.some((s) => byId.has(s.id))) {
        fitted.current = false;
      }
      return graph.steps.map((step) => {
        const old = byId.get(step.id);
        const dragging = Boolean(old && old.dragging);
        return {
          ...(old || {}),
          id: step.id,
          type: "step",
          position: dragging ? old.position : { x: num(step.x), y: num(step.y) },
          data: {
            step,
            error: errorMap[step.id] || "",
            highlighted: Boolean(selected) && step.id === selected,
            readOnly: Boolean(readOnly),
            direction,
            roleLabels: labelMap,
          },
          selected:
            selectedChanged || !old ? Boolean(selected) && step.id === selected : Boolean(old.selected),
          draggable: !readOnly,
          connectable: !readOnly,
          deletable: !readOnly,
        };
      });
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [graph, errorsKey, labelsKey, selected, readOnly, direction]);

  useEffect(() => {
    setEdges((previous) => {
      const wasSelected = new Map(previous.map((e) => [e.id, Boolean(e.selected)]));
      const ids = new Set(graph.steps.map((s) => s.id));
      return graph.transitions
        .filter((t) => ids.has(t.source) && ids.has(t.target))
        .map((t) => ({
          id: t.id,
          source: t.source,
          target: t.target,
          type: "smoothstep",
          // A flow's own label (from an imported BPMN file) first, then its condition.
          label: [t.name, t.condition].filter(Boolean).map(String).join("：") || undefined,
          labelStyle: { fontSize: 12, fill: "#1c2024" },
          labelBgStyle: { fill: "#fff7ed" },
          labelBgPadding: [4, 2],
          labelBgBorderRadius: 4,
          markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
          selected: wasSelected.get(t.id) || false,
          deletable: !readOnly,
        }));
    });
  }, [graph, readOnly]);

  // Fit the view when the first nodes (of each loaded workflow) have been measured.
  const nodesInitialized = useNodesInitialized();
  useEffect(() => {
    if (nodesInitialized && !fitted.current && nodes.length > 0) {
      fitted.current = true;
      rf.fitView(FIT_OPTIONS);
    }
  }, [nodesInitialized, nodes.length, rf]);

  const onNodesChange = useCallback(
    (changes) => setNodes((current) => applyNodeChanges(changes, current)),
    [],
  );
  const onEdgesChange = useCallback(
    (changes) => setEdges((current) => applyEdgeChanges(changes, current)),
    [],
  );

  const onNodeDragStop = useCallback(
    (_event, node, dragged) => {
      const moved = new Map(
        (dragged && dragged.length ? dragged : [node]).map((n) => [n.id, n.position]),
      );
      commit((g) => {
        let changed = false;
        const nextSteps = g.steps.map((s) => {
          const p = moved.get(s.id);
          if (!p) return s;
          const x = Math.round(p.x);
          const y = Math.round(p.y);
          if (x === Math.round(num(s.x)) && y === Math.round(num(s.y))) return s;
          changed = true;
          return { ...s, x, y };
        });
        return changed ? { ...g, steps: nextSteps } : null;
      });
    },
    [commit],
  );

  const isValidConnection = useCallback((c) => {
    if (!c.source || !c.target || c.source === c.target) return false;
    return !graphRef.current.transitions.some(
      (t) => t.source === c.source && t.target === c.target,
    );
  }, []);

  const onConnect = useCallback(
    (c) => {
      commit((g) => {
        if (!isValidConnection(c)) return null;
        const taken = new Set(g.transitions.map((t) => t.id));
        const transition = {
          id: randomId("tr_", taken),
          source: c.source,
          target: c.target,
          condition: "",
        };
        return { ...g, transitions: [...g.transitions, transition] };
      });
    },
    [commit, isValidConnection],
  );

  // Delete/Backspace act only when focus is on the canvas (or nowhere), not while the
  // user works in a form or button elsewhere on the page.
  const rootRef = useRef(null);
  const onBeforeDelete = useCallback(async () => {
    if (readOnly) return false;
    const active = document.activeElement;
    return !active || active === document.body || Boolean(rootRef.current?.contains(active));
  }, [readOnly]);

  const onDelete = useCallback(
    ({ nodes: deletedNodes, edges: deletedEdges }) => {
      const nodeIds = new Set((deletedNodes || []).map((n) => n.id));
      const edgeIds = new Set((deletedEdges || []).map((e) => e.id));
      if (nodeIds.size === 0 && edgeIds.size === 0) return;
      commit((g) => ({
        steps: g.steps.filter((s) => !nodeIds.has(s.id)),
        transitions: g.transitions.filter(
          (t) => !edgeIds.has(t.id) && !nodeIds.has(t.source) && !nodeIds.has(t.target),
        ),
      }));
      if (selected && nodeIds.has(selected) && callbacks.current.onSelect) {
        callbacks.current.onSelect("");
      }
    },
    [commit, selected],
  );

  const addStep = useCallback(
    (kind, flowPosition) => {
      const [width, height] = NODE_SIZE[kind];
      commit((g) => {
        const taken = new Set(g.steps.map((s) => s.id));
        const step = {
          id: randomId("step_", taken),
          name: DEFAULT_NAME[kind],
          kind,
          x: Math.round(flowPosition.x - width / 2),
          y: Math.round(flowPosition.y - height / 2),
        };
        return { ...g, steps: [...g.steps, step] };
      });
    },
    [commit],
  );

  const canvasRef = useRef(null);
  const addAtCentre = useCallback(
    (kind) => {
      const box = canvasRef.current ? canvasRef.current.getBoundingClientRect() : null;
      if (!box) return;
      // A little jitter so repeated clicks do not stack nodes exactly.
      const jitter = (Math.random() - 0.5) * 40;
      addStep(
        kind,
        rf.screenToFlowPosition({ x: box.left + box.width / 2 + jitter, y: box.top + box.height / 2 + jitter }),
      );
    },
    [addStep, rf],
  );

  const onDragOver = useCallback(
    (event) => {
      if (readOnly) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    },
    [readOnly],
  );

  const onDrop = useCallback(
    (event) => {
      if (readOnly) return;
      event.preventDefault();
      const kind = event.dataTransfer.getData(DND_TYPE) || event.dataTransfer.getData("text/plain");
      if (!KINDS.includes(kind)) return;
      addStep(kind, rf.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
    },
    [addStep, readOnly, rf],
  );

  const autoLayout = useCallback(() => {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: direction === "LR" ? "LR" : "TB", nodesep: 48, ranksep: 64 });
    g.setDefaultEdgeLabel(() => ({}));
    const measured = new Map(rf.getNodes().map((n) => [n.id, n.measured || {}]));
    const current = graphRef.current;
    current.steps.forEach((s) => {
      const [w, h] = NODE_SIZE[KINDS.includes(s.kind) ? s.kind : "task"];
      const m = measured.get(s.id) || {};
      g.setNode(s.id, { width: m.width || w, height: m.height || h });
    });
    current.transitions.forEach((t) => {
      if (g.hasNode(t.source) && g.hasNode(t.target)) g.setEdge(t.source, t.target);
    });
    dagre.layout(g);
    commit((latest) => ({
      ...latest,
      steps: latest.steps.map((s) => {
        const n = g.node(s.id);
        return n ? { ...s, x: n.x - n.width / 2, y: n.y - n.height / 2 } : s;
      }),
    }));
    window.setTimeout(() => rf.fitView({ ...FIT_OPTIONS, duration: 200 }), 60);
  }, [commit, direction, rf]);

  const onNodeClick = useCallback((_event, node) => {
    if (callbacks.current.onSelect) callbacks.current.onSelect(node.id);
  }, []);
  const onPaneClick = useCallback(() => {
    if (callbacks.current.onSelect) callbacks.current.onSelect("");
  }, []);

  return (
    <div
      id={id}
      ref={rootRef}
      className={["bdc-flow-designer", className].filter(Boolean).join(" ")}
      data-testid="flow-designer"
      data-read-only={readOnly ? "true" : "false"}
      style={{
        display: "flex",
        width: "100%",
        minHeight: 320,
        border: "1px solid #e0e1e6",
        borderRadius: 8,
        overflow: "hidden",
        background: "#ffffff",
        ...(style || {}),
      }}
    >
      {!readOnly && <Palette onAdd={addAtCentre} />}
      <div ref={canvasRef} style={{ flex: 1, minWidth: 0, position: "relative" }}>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={NODE_TYPES}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onNodeDragStop={onNodeDragStop}
          onConnect={onConnect}
          isValidConnection={isValidConnection}
          onBeforeDelete={onBeforeDelete}
          onDelete={onDelete}
          onNodeClick={onNodeClick}
          onPaneClick={onPaneClick}
          onDragOver={onDragOver}
          onDrop={onDrop}
          nodesDraggable={!readOnly}
          nodesConnectable={!readOnly}
          edgesFocusable={!readOnly}
          elementsSelectable
          deleteKeyCode={readOnly ? null : ["Delete", "Backspace"]}
          connectionLineType="smoothstep"
          minZoom={0.2}
          maxZoom={2}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={16} size={1} />
          <Controls showInteractive={false} />
          <MiniMap pannable zoomable nodeColor={(n) => KIND_COLOR[n.data?.step?.kind] || "#999"} />
          {!readOnly && (
            <Panel position="top-right">
              <button
                type="button"
                data-testid="designer-layout"
                onClick={autoLayout}
                style={{
                  padding: "6px 12px",
                  fontSize: 13,
                  borderRadius: 6,
                  border: "1px solid #c1d0ff",
                  background: "#edf2fe",
                  color: "#3a5bc7",
                  cursor: "pointer",
                }}
              >
                自动布局
              </button>
            </Panel>
          )}
        </ReactFlow>
      </div>
    </div>
  );
}

export function FlowDesigner(props) {
  return (
    <ReactFlowProvider>
      <Designer {...props} />
    </ReactFlowProvider>
  );
}
