// The state at every checkpoint of the run, with the change from the previous checkpoint
// highlighted (keys and list items added, removed, changed); messages shown as a
// conversation. From the chosen checkpoint: fork with an edited state, or answer an interrupt.

import { api, go } from "./app.js";
import { h, clear, json } from "./dom.js";

const ROLE = { human: "user", ai: "assistant", tool: "tool", system: "system" };

export class StateView {
  constructor(panel, { base, meta }) {
    this.base = base;
    this.meta = meta;
    this.list = h("ol", { class: "checkpoints", id: "checkpoints" });
    this.detail = h("div", { class: "checkpoint-detail", id: "checkpoint-detail" });
    panel.append(h("div", { class: "state-page" }, h("div", { class: "checkpoint-list" }, this.list), this.detail));
    this.items = [];
    this.chosen = null;
  }

  set(checkpoints) {
    this.items = checkpoints;
    clear(this.list);
    if (!checkpoints.length) {
      this.list.append(h("li", { class: "muted" }, "No checkpoints (a run without a checkpointer keeps none)."));
      return;
    }
    checkpoints.forEach((c, i) => {
      const changed = Object.values(c.diff).filter((d) => d.change !== "same").length;
      this.list.append(h("li", {
        class: "checkpoint",
        dataset: { checkpointId: c.checkpoint_id, index: String(i) },
        onclick: () => this.show(i),
      },
      h("b", {}, `step ${c.step}`), " ", h("span", { class: "muted" }, c.source),
      h("div", { class: "small mono" }, c.checkpoint_id.slice(0, 13)),
      h("div", { class: "small" }, `next: ${c.next.join(", ") || "—"}`),
      changed ? h("span", { class: "badge changed" }, `${changed} changed`) : "",
      c.interrupts.length ? h("span", { class: "badge outcome-interrupted" }, "interrupt") : ""));
    });
    const keep = this.items.findIndex((c) => c.checkpoint_id === this.chosen);
    this.show(keep >= 0 ? keep : checkpoints.length - 1);
  }

  show(index) {
    const c = this.items[index];
    this.chosen = c.checkpoint_id;
    for (const li of this.list.children) li.classList.toggle("active", li.dataset.index === String(index));
    clear(this.detail);
    this.detail.append(h("h3", {}, `Checkpoint at step ${c.step} `, h("span", { class: "mono muted small" }, c.checkpoint_id)),
      h("p", { class: "muted" }, `source ${c.source} · next: ${c.next.join(", ") || "— (done)"}`));
    const keys = Object.keys(c.diff);
    for (const key of keys) {
      const d = c.diff[key];
      const present = key in c.values;
      const block = h("div", { class: `state-key change-${d.change}`, dataset: { key, change: d.change } },
        h("div", { class: "key-head" }, h("b", {}, key), " ", d.change !== "same" ? h("span", { class: `badge change-${d.change}` }, d.change) : ""));
      if (!present) block.append(h("p", { class: "muted" }, "(removed)"));
      else if (isMessages(c.values[key])) block.append(conversation(c.values[key], d.items));
      else if (Array.isArray(c.values[key]) && d.items) block.append(listItems(c.values[key], d.items));
      else block.append(h("pre", { class: "value" }, json(c.values[key])));
      if (d.items && d.items.removed.length) {
        block.append(h("div", { class: "removed-items" }, h("span", { class: "muted" }, "removed:"),
          d.items.removed.map((item) => h("pre", { class: "value item-removed" }, json(item)))));
      }
      this.detail.append(block);
    }
    this.detail.append(this.actions(c));
  }

  actions(c) {
    const box = h("div", { class: "actions", id: "fork-box" });
    const error = h("p", { class: "error" });
    if (!this.meta.graph_loaded) {
      box.append(h("p", { class: "muted" }, `Forking and resuming start a run of graph ${this.meta.run.graph}: start \`rewind ui\` with --graphs ID=FILE.py:ATTR to load it.`));
      return box;
    }
    const suggestion = "messages" in c.values
      ? { messages: [{ role: "user", content: "" }] }
      : c.values;
    const values = h("textarea", { id: "fork-values", rows: 3, spellcheck: "false" }, JSON.stringify(suggestion));
    const asNode = h("input", { id: "fork-as-node", placeholder: "as node (optional)" });
    const fork = h("button", { id: "fork-button", onclick: async () => {
      error.textContent = "";
      let parsed;
      try { parsed = JSON.parse(values.value); } catch (err) { error.textContent = `values: ${err.message}`; return; }
      try {
        const made = await api(`${this.base}/fork`, { method: "POST", body: { checkpoint_id: c.checkpoint_id, values: parsed, as_node: asNode.value || null } });
        go(`/ui/run/${made.run_id}`);
      } catch (err) { error.textContent = err.message; }
    } }, "Fork from this checkpoint");
    box.append(h("h4", {}, "Fork"), h("p", { class: "muted" }, "Write these values to the state (update_state), as the node named would, then run from there on the same thread."),
      this.meta.redaction ? h("p", { class: "muted", id: "redaction-note" }, `Runs started here are recorded through the redaction hook ${this.meta.redaction}.`) : "",
      values, h("div", { class: "row" }, asNode, fork));
    if (c.interrupts.length) {
      const answer = h("textarea", { id: "resume-value", rows: 2 }, "\"\"");
      const resume = h("button", { id: "resume-button", onclick: async () => {
        error.textContent = "";
        let parsed;
        try { parsed = JSON.parse(answer.value); } catch (err) { error.textContent = `resume: ${err.message}`; return; }
        try {
          const made = await api(`${this.base}/resume`, { method: "POST", body: { resume: parsed, checkpoint_id: c.checkpoint_id } });
          go(`/ui/run/${made.run_id}`);
        } catch (err) { error.textContent = err.message; }
      } }, "Answer the interrupt");
      box.append(h("h4", {}, "Pending interrupt"),
        ...c.interrupts.map((i) => h("pre", { class: "value interrupt-value" }, json(i.interrupts.map((x) => x.value)))),
        answer, resume);
    }
    box.append(error);
    return box;
  }
}

function isMessages(value) {
  return Array.isArray(value) && value.length > 0 && value.every((m) => m && typeof m === "object" && "type" in m && "content" in m);
}

function conversation(messages, items) {
  return h("div", { class: "conversation" }, messages.map((m, i) => {
    const mark = items ? items.after[i] : "same";
    const text = typeof m.content === "string" ? m.content : json(m.content);
    return h("div", { class: `msg role-${ROLE[m.type] || m.type} item-${mark}`, dataset: { mark } },
      h("div", { class: "msg-role" }, ROLE[m.type] || m.type, m.name ? ` · ${m.name}` : "", mark !== "same" ? h("span", { class: `badge change-${mark}` }, mark) : ""),
      text ? h("div", { class: "msg-text" }, text) : "",
      (m.tool_calls || []).map((t) => h("div", { class: "tool-call mono" }, `→ ${t.name}(${JSON.stringify(t.args)})`)));
  }));
}

function listItems(list, items) {
  return h("ol", { class: "list-items" }, list.map((item, i) => {
    const mark = items.after[i];
    return h("li", { class: `item-${mark}`, dataset: { mark } }, h("pre", { class: "value" }, json(item)),
      mark !== "same" ? h("span", { class: `badge change-${mark}` }, mark) : "");
  }));
}
