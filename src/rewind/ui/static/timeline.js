// The timeline: a row per concurrently running task, each node task a bar from its start
// to its end event, its chat-model and tool calls drawn inside it; a subgraph's tasks nested
// in rows under the task that ran it, inside a box spanning that task; retries, failures,
// interrupts and resumes marked.

import { h, clear, duration } from "./dom.js";

const LANE = 46;
const MARK_ICON = { failed: "✕", retried: "↻", interrupted: "⏸", resumed: "▶", ended: "■" };

export function drawTimeline(box, data) {
  clear(box);
  const bars = data.bars.filter((b) => b.node !== "__start__" || data.bars.length === 1);
  if (!bars.length) {
    box.append(h("p", { class: "muted" }, "No tasks yet."));
    return;
  }
  const start = data.start;
  const end = Math.max(data.end, ...bars.map((b) => b.end || b.start));
  const span = Math.max(end - start, 1);
  const pct = (t) => `${(((t - start) / span) * 100).toFixed(3)}%`;
  const width = (a, b) => `${Math.max(((b - a) / span) * 100, 0.25).toFixed(3)}%`;
  const lanes = Math.max(...bars.map((b) => b.row + 1));
  const label = (bar) => (bar.ns ? `${bar.ns.split("|").map((p) => p.split(":")[0]).join(" › ")} › ${bar.node}` : bar.node);

  const axis = h("div", { class: "axis" });
  for (let i = 0; i <= 4; i++) {
    axis.append(h("span", { class: "tick", style: { left: `${i * 25}%` } }, duration((span * i) / 4)));
  }
  const track = h("div", { class: "track", id: "timeline", style: { height: `${lanes * LANE}px` } });
  for (let lane = 0; lane < lanes; lane++) {
    track.append(h("div", { class: "lane", style: { top: `${lane * LANE}px`, height: `${LANE}px` } }));
  }
  for (const bar of bars) { // a task that ran a subgraph: the box its nested rows sit in
    if (bar.rows < 2) continue;
    track.append(h("div", {
      class: `nest depth-${Math.min(bar.depth, 3)}`,
      title: `subgraph run by ${label(bar)}`,
      dataset: { taskId: bar.task_id, node: bar.node },
      style: { left: pct(bar.start), width: width(bar.start, bar.end ?? end), top: `${bar.row * LANE + 1}px`, height: `${bar.rows * LANE - 2}px` },
    }));
  }
  for (const bar of bars) {
    const stop = bar.end ?? end;
    const title = `${label(bar)} · step ${bar.step} · ${bar.outcome} · ${duration(stop - bar.start)}` +
      (bar.attempts > 1 ? ` · attempt ${bar.attempts}` : "");
    const node = h("div", {
      class: `bar outcome-${bar.outcome} depth-${Math.min(bar.depth, 3)}`,
      title,
      dataset: { node: bar.node, outcome: bar.outcome, step: String(bar.step), seq: String(bar.seq), taskId: bar.task_id || "", parent: bar.parent || "" },
      style: { left: pct(bar.start), width: width(bar.start, stop), top: `${bar.row * LANE + 6}px`, height: `${LANE - 12}px` },
    }, h("span", { class: "bar-label" }, bar.node, bar.attempts > 1 ? ` (attempt ${bar.attempts})` : ""));
    for (const failed of bar.failures || []) { // a failed attempt the task was retried after
      const inner = Math.max(stop - bar.start, 1);
      node.append(h("div", { class: "failure", title: "failed attempt, retried", style: { left: `${(((failed - bar.start) / inner) * 100).toFixed(2)}%` } }));
    }
    for (const call of bar.calls) {
      const cstop = call.end ?? stop;
      const inner = Math.max(stop - bar.start, 1);
      node.append(h("div", {
        class: `call call-${call.kind}`,
        title: `${call.kind === "chat" ? "chat" : "tool"} ${call.name} · ${duration(cstop - call.start)}`,
        dataset: { kind: call.kind, name: call.name },
        style: {
          left: `${(((call.start - bar.start) / inner) * 100).toFixed(2)}%`,
          width: `${Math.max(((cstop - call.start) / inner) * 100, 1).toFixed(2)}%`,
        },
      }));
    }
    track.append(node);
  }
  for (const mark of data.marks) {
    track.append(h("div", {
      class: `mark mark-${mark.kind}`,
      title: `${mark.kind}${mark.node ? " in " + mark.node : ""}: ${mark.detail}`,
      dataset: { kind: mark.kind },
      style: { left: pct(mark.t) },
    }, MARK_ICON[mark.kind] || "•"));
  }
  const legend = h("p", { class: "legend muted" },
    h("span", { class: "swatch outcome-ok" }), " task ",
    h("span", { class: "swatch call-chat" }), " chat model ",
    h("span", { class: "swatch call-tool" }), " tool ",
    h("span", { class: "swatch outcome-failed" }), " failed ",
    h("span", { class: "swatch outcome-interrupted" }), " interrupted · ",
    `${bars.length} tasks over ${duration(span)}`);
  const list = h("table", { class: "tasks" },
    h("thead", {}, h("tr", {}, ["step", "task", "took", "outcome", "calls"].map((c) => h("th", {}, c)))),
    h("tbody", {}, bars.map((b) => h("tr", {},
      h("td", { class: "num" }, String(b.step)),
      h("td", {}, label(b)),
      h("td", { class: "num" }, b.end ? duration(b.end - b.start) : "running"),
      h("td", {}, h("span", { class: `badge outcome-${b.outcome}` }, b.outcome)),
      h("td", {}, b.calls.map((c) => `${c.kind} ${c.name}`).join(", "))))));
  box.append(axis, track, legend, list);
}
