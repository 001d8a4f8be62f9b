// The run's events, a virtualised list paged from the server by seq (only the rows in view
// are in the DOM); a click shows an event whole.

import { api } from "./app.js";
import { h, clear, clock, json } from "./dom.js";
import { VirtualList } from "./vlist.js";

const PAGE = 200;

export class EventsView {
  constructor(panel, { base, total }) {
    this.base = base;
    this.loading = new Set();
    this.list = new VirtualList({ id: "events", rowHeight: 24, height: 460, row: (e) => this.row(e), need: (a, b) => this.need(a, b) });
    this.detail = h("pre", { class: "value event-detail", id: "event-detail" }, "Click an event to see it whole.");
    panel.append(h("div", { class: "events-page" }, this.list.viewport, this.detail));
    this.list.setTotal(total);
  }

  row(e) {
    return h("div", { class: `vrow type-${e.type.replace(".", "-")}`, dataset: { seq: String(e.seq) }, onclick: () => this.open(e.seq) },
      h("span", { class: "seq num" }, String(e.seq)),
      h("span", { class: "ts mono" }, clock(e.ts)),
      h("span", { class: "type" }, e.type),
      h("span", { class: "node" }, e.ns ? `${e.ns.split(":")[0]} › ${e.node || ""}` : e.node || ""),
      h("span", { class: "summary" }, e.summary));
  }

  add(row) {
    this.list.set(row.seq, row);
  }

  need(start, end) {
    const first = Math.floor(start / PAGE) * PAGE;
    for (let page = first; page < end; page += PAGE) {
      if (this.loading.has(page)) continue;
      this.loading.add(page);
      api(`${this.base}/events?after_seq=${page - 1}&limit=${PAGE}`).then((data) => {
        for (const e of data.events) if (this.list.items[e.seq] === undefined) this.list.items[e.seq] = e;
        this.list.setTotal(Math.max(this.list.total, data.total));
        this.list.schedule();
      }, () => this.loading.delete(page));
    }
  }

  async open(seq) {
    const event = await api(`${this.base}/events/${seq}`);
    clear(this.detail);
    this.detail.append(json(event));
  }
}
