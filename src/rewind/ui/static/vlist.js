// A virtualised list: only the rows in view (and a few around them) are in the DOM, however
// many the list holds; rows not loaded yet are asked for (need) and drawn as placeholders.

import { h, clear } from "./dom.js";

const OVERSCAN = 10;

export class VirtualList {
  constructor({ rowHeight = 24, height = 420, row, need, id }) {
    this.rowHeight = rowHeight;
    this.row = row; // (item, index) => Node
    this.need = need; // (start, end) => void: load the items in [start, end)
    this.items = [];
    this.total = 0;
    this.follow = false; // keep the newest row in view as rows arrive
    this.spacer = h("div", { class: "vlist-spacer" });
    this.rows = h("div", { class: "vlist-rows" });
    this.viewport = h("div", { class: "vlist", id, style: { height: `${height}px` } }, this.spacer, this.rows);
    this.viewport.addEventListener("scroll", () => this.schedule());
    this.pending = false;
  }

  setTotal(total) {
    if (total === this.total) return;
    this.total = total;
    this.spacer.style.height = `${total * this.rowHeight}px`;
    if (this.follow) this.viewport.scrollTop = this.viewport.scrollHeight;
    this.schedule();
  }

  set(index, item) {
    this.items[index] = item;
    if (index >= this.total) this.setTotal(index + 1);
    else this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    if (this.viewport.offsetParent === null) return; // hidden: drawn when shown
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 420;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.total, Math.ceil((top + height) / this.rowHeight) + OVERSCAN);
    clear(this.rows);
    let missing = null;
    for (let i = first; i < last; i++) {
      const item = this.items[i];
      const node = item === undefined ? h("div", { class: "vrow placeholder" }, "…") : this.row(item, i);
      node.style.top = `${i * this.rowHeight}px`;
      node.style.height = `${this.rowHeight}px`;
      this.rows.append(node);
      if (item === undefined && missing === null) missing = i;
    }
    if (missing !== null && this.need) this.need(missing, last);
  }
}
