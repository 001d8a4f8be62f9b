// The stream-mode viewer: pick modes (and optionally a checkpoint to start from) and see the
// chunks `rewind replay RUN -m MODE ... --json` prints, one JSON line each, rebuilt by the
// same code on the server.

import { api } from "./app.js";
import { h, clear } from "./dom.js";

const MODES = ["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints", "events"];

export class ReplayView {
  constructor(panel, { base }) {
    this.base = base;
    this.boxes = MODES.map((m) => h("input", { type: "checkbox", name: "mode", value: m, checked: m === "updates" }));
    this.from = h("select", { id: "replay-from" }, h("option", { value: "" }, "from the start"));
    this.subgraphs = h("input", { type: "checkbox", id: "replay-subgraphs" });
    this.output = h("div", { class: "chunks", id: "replay-output" });
    this.status = h("p", { class: "muted", id: "replay-status" });
    const form = h("form", { class: "replay-form", id: "replay-form" },
      h("div", { class: "modes" }, this.boxes.map((b) => h("label", { class: "mode" }, b, ` ${b.value}`))),
      h("div", { class: "row" }, this.from, h("label", {}, this.subgraphs, " subgraphs"),
        h("button", { type: "submit", id: "replay-button" }, "Replay")));
    form.addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    this.command = h("code", { id: "replay-command" });
    panel.append(form, h("p", { class: "muted" }, "The same as ", this.command), this.status, this.output);
  }

  setCheckpoints(checkpoints) {
    const chosen = this.from.value;
    clear(this.from);
    this.from.append(h("option", { value: "" }, "from the start"));
    for (const c of checkpoints) {
      this.from.append(h("option", { value: c.checkpoint_id, selected: c.checkpoint_id === chosen }, `from step ${c.step} (${c.checkpoint_id.slice(0, 13)})`));
    }
  }

  async run() {
    const modes = this.boxes.filter((b) => b.checked).map((b) => b.value);
    if (!modes.length) {
      this.status.textContent = "Pick at least one mode.";
      return;
    }
    const q = new URLSearchParams();
    for (const m of modes) q.append("mode", m);
    if (this.from.value) q.set("from", this.from.value);
    if (this.subgraphs.checked) q.set("subgraphs", "true");
    const runId = decodeURIComponent(this.base.split("/").pop());
    this.command.textContent = `rewind replay ${runId} ${modes.map((m) => `-m ${m}`).join(" ")}` +
      `${this.from.value ? ` --from ${this.from.value}` : ""}${this.subgraphs.checked ? " --subgraphs" : ""} --json`;
    this.status.textContent = "Replaying…";
    clear(this.output);
    try {
      const data = await api(`${this.base}/replay?${q}`);
      for (const chunk of data.chunks) {
        const mode = modes.length > 1 ? chunk[0] : modes[0];
        this.output.append(h("div", { class: "chunk", dataset: { mode } }, JSON.stringify(chunk)));
      }
      this.status.textContent = `${data.chunks.length} chunks${data.truncated ? " (the first ones only)" : ""}`;
    } catch (err) {
      this.status.textContent = err.message;
    }
  }
}
