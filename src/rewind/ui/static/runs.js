// The runs list: filters (graph, thread, status, time), newest first, paged. It follows the
// log over SSE (/ui/api/runs/feed): a new run appears, a run's status and event count move as
// it goes; each message carries only the rows of the runs that changed (nothing is polled).

import { api } from "./app.js";
import { h, clear, when, statusBadge } from "./dom.js";

const STATUSES = ["", "running", "success", "interrupted", "error", "cancelled"];
const PAGE = 50;

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

  let rows = []; // what the table shows, newest first
  let cursor = null; // where the next page of older runs starts
  let position = null; // the log position the feed follows from
  let shown = null; // the filters the rows were read with
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

  async function load() { // the first page (the feed keeps it current)
    const q = query({ limit: String(PAGE) });
    const page = await api(`/runs?${q}`);
    shown = Object.fromEntries(q);
    rows = page.runs;
    cursor = page.next_before;
    more.hidden = !cursor;
    render();
    if (position === null) follow(page.position);
  }

  async function older() { // one more page, appended: the pages shown are not read again
    const q = query({ limit: String(PAGE), before: cursor });
    const page = await api(`/runs?${q}`);
    const known = new Set(rows.map((r) => r.run_id));
    rows.push(...page.runs.filter((r) => !known.has(r.run_id)));
    cursor = page.next_before;
    more.hidden = !cursor;
    render();
  }

  // Whether a run belongs in the list as filtered (a new run is shown only in the list of the
  // newest runs: not in one bounded by a "before" time).
  function matches(r) {
    const f = shown || {};
    const created = Date.parse(r.created_at);
    return (!f.graph || r.graph === f.graph) && (!f.thread || r.thread_id === f.thread) &&
      (!f.status || r.status === f.status) && (!f.after || created > Date.parse(f.after)) &&
      (!f.before || created < Date.parse(f.before));
  }

  let source = null;
  let threadsTimer = null;
  function follow(from) {
    position = from;
    source = new EventSource(`/ui/api/runs/feed?after=${from}`);
    source.addEventListener("runs", (e) => {
      const changed = JSON.parse(e.data).runs;
      let startedOrEnded = false;
      for (const r of changed) {
        const at = rows.findIndex((x) => x.run_id === r.run_id);
        if (at < 0 || rows[at].status !== r.status) startedOrEnded = true;
        if (at >= 0 && matches(r)) rows[at] = r;
        else if (at >= 0) rows.splice(at, 1);
        else if (matches(r) && !(shown || {}).before) {
          const newer = rows.findIndex((x) => x.created_at < r.created_at);
          rows.splice(newer < 0 ? rows.length : newer, 0, r);
        }
      }
      render();
      document.body.dataset.runsFeed = String(Number(document.body.dataset.runsFeed || 0) + 1);
      if (startedOrEnded && !threadsTimer) { // the threads' last status moved: read them again
        threadsTimer = setTimeout(() => { threadsTimer = null; loadThreads().catch(showError); }, 300);
      }
    });
  }

  function render() {
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
    const q = query();
    history.replaceState(null, "", `/ui${q.toString() ? "?" + q : ""}`);
    load().catch(showError);
  }
  const errorLine = h("p", { class: "error" });
  main.append(errorLine);
  const showError = (err) => { errorLine.textContent = err.message; };
  filters.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  more.addEventListener("click", () => { older().catch(showError); });

  await Promise.all([load(), loadThreads()]);
  return () => {
    if (source) source.close();
    if (threadsTimer) clearTimeout(threadsTimer);
  };
}
