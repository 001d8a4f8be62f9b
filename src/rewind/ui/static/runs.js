// The runs list: filters (graph, thread, status, time), newest first, paged; it polls so
// live runs appear and their status and event counts move as they go.

import { api } from "./app.js";
import { h, clear, when, statusBadge } from "./dom.js";

const STATUSES = ["", "running", "success", "interrupted", "error", "cancelled"];
const PAGE = 50;
const POLL_MS = 1500;

export async function showRuns(main, crumbs) {
  crumbs.append(h("span", {}, "runs"));
  const params = new URLSearchParams(location.search);
  const field = (name, attrs) =>
    h("input", { name, value: params.get(name) || "", ...attrs });
  const graph = field("graph", { placeholder: "graph" });
  const thread = field("thread", { placeholder: "thread" });
  const status = h("select", { name: "status" },
    STATUSES.map((s) => h("option", { value: s, selected: s === (params.get("status") || "") }, s || "any status")));
  const after = field("after", { type: "datetime-local", title: "started after" });
  const before = field("before", { type: "datetime-local", title: "started before" });
  const filters = h("form", { class: "filters", id: "filters" },
    graph, thread, status, h("label", {}, "after ", after), h("label", {}, "before ", before),
    h("button", { type: "submit" }, "Filter"));
  const body = h("tbody", { id: "runs-body" });
  const table = h("table", { class: "runs", id: "runs" },
    h("thead", {}, h("tr", {}, ["run", "thread", "graph", "status", "started", "events", "from"].map((c) => h("th", {}, c)))),
    body);
  const more = h("button", { class: "more", id: "older" }, "Older runs");
  const threads = h("ul", { class: "threads", id: "threads" });
  main.append(h("div", { class: "runs-page" },
    h("section", { class: "runs-main" }, h("h2", {}, "Runs"), filters, table, more),
    h("aside", { class: "threads-side" }, h("h3", {}, "Threads"), threads)));

  let pages = 1; // how many pages are shown (the poll refreshes them all)
  const query = (extra = {}) => {
    const q = new URLSearchParams();
    const iso = (v) => (v ? new Date(v).toISOString() : "");
    if (graph.value) q.set("graph", graph.value);
    if (thread.value) q.set("thread", thread.value);
    if (status.value) q.set("status", status.value);
    if (after.value) q.set("after", iso(after.value));
    if (before.value) q.set("before", iso(before.value));
    for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
    return q;
  };

  async function load() {
    const rows = [];
    let cursor = null;
    for (let i = 0; i < pages; i++) {
      const q = query({ limit: String(PAGE) });
      if (cursor) q.set("before", cursor);
      const page = await api(`/runs?${q}`);
      rows.push(...page.runs);
      cursor = page.next_before;
      if (!cursor) break;
    }
    more.hidden = !cursor;
    render(rows);
  }

  function render(rows) {
    clear(body);
    if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No runs match. Record one: rewind demo")));
    for (const r of rows) {
      body.append(h("tr", { class: r.live ? "live" : "", dataset: { runId: r.run_id } },
        h("td", {}, h("a", { href: `/ui/run/${r.run_id}`, "data-link": true, class: "mono" }, r.run_id.slice(0, 8))),
        h("td", {}, h("a", { href: "#", class: "mono", onclick: (e) => { e.preventDefault(); thread.value = r.thread_id; submit(); } }, r.thread_id)),
        h("td", {}, r.graph || ""),
        h("td", {}, statusBadge(r.status)),
        h("td", {}, when(Date.parse(r.created_at))),
        h("td", { class: "num" }, String(r.events)),
        h("td", {}, r.origin_run_id ? h("a", { href: `/ui/run/${r.origin_run_id}`, "data-link": true, class: "mono" }, `fork of ${r.origin_run_id.slice(0, 8)}`) : "")));
    }
  }

  async function loadThreads() {
    const { threads: list } = await api("/threads?limit=30");
    clear(threads);
    for (const t of list) {
      threads.append(h("li", {},
        h("a", { href: "#", class: "mono", onclick: (e) => { e.preventDefault(); thread.value = t.thread_id; submit(); } }, t.thread_id),
        " ", statusBadge(t.last_status), h("span", { class: "muted" }, ` ${t.runs} run${t.runs === 1 ? "" : "s"}`)));
    }
  }

  function submit() {
    pages = 1;
    const q = query();
    history.replaceState(null, "", `/ui${q.toString() ? "?" + q : ""}`);
    load().catch(showError);
  }
  const errorLine = h("p", { class: "error" });
  main.append(errorLine);
  const showError = (err) => { errorLine.textContent = err.message; };
  filters.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  more.addEventListener("click", () => { pages += 1; load().catch(showError); });

  await Promise.all([load(), loadThreads()]);
  const timer = setInterval(() => {
    if (document.hidden) return;
    Promise.all([load(), loadThreads()]).then(() => { errorLine.textContent = ""; }, showError);
  }, POLL_MS);
  return () => clearInterval(timer);
}
