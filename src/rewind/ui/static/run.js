// One run's page: a header, tabs for each view, and (for a running run) the live follow:
// the run's events over SSE from the log, catch-up then live (the server's subscription
// guarantees no gap and no duplicate; rows are kept by seq, so a reconnect cannot double one).

import { api } from "./app.js";
import { h, clear, when, statusBadge } from "./dom.js";
import { drawTimeline } from "./timeline.js";
import { StateView } from "./state.js";
import { TokensView } from "./tokens.js";
import { ReplayView } from "./replay.js";
import { EventsView } from "./events.js";
import { drawMeta } from "./meta.js";

const TABS = [
  ["timeline", "Timeline"],
  ["state", "State"],
  ["tokens", "Tokens"],
  ["replay", "Replay"],
  ["events", "Events"],
  ["meta", "Metadata"],
];

export async function showRun(main, crumbs, runId) {
  const base = `/runs/${encodeURIComponent(runId)}`;
  let firstTimeline = api(`${base}/timeline`); // asked for with the run, not after it
  firstTimeline.catch(() => {});
  let meta = await api(base);
  crumbs.append(h("a", { href: "/ui", "data-link": true }, "runs"), " / ",
    h("span", { class: "mono" }, runId));

  const status = h("span", { id: "run-status" });
  const counts = h("span", { class: "muted", id: "run-counts" });
  const header = h("section", { class: "run-head" },
    h("h2", {}, h("span", { class: "mono", id: "run-id" }, runId), " ", status,
      meta.hide_content ? h("span", { class: "badge", id: "content-hidden", title: "message texts, tokens and tool arguments hidden" }, "content hidden") : ""),
    h("p", { class: "muted" },
      "graph ", h("b", {}, meta.run.graph || "?"), " · thread ",
      h("a", { href: `/ui?thread=${encodeURIComponent(meta.run.thread_id)}`, "data-link": true, class: "mono" }, meta.run.thread_id),
      " · started ", when(Date.parse(meta.run.created_at)), " · ", counts,
      meta.run.origin_run_id ? h("span", {}, " · from ",
        h("a", { href: `/ui/run/${meta.run.origin_run_id}`, "data-link": true, class: "mono" }, meta.run.origin_run_id.slice(0, 8)),
        " at ", h("span", { class: "mono" }, (meta.run.origin_checkpoint_id || "").slice(0, 13))) : ""));
  const nav = h("nav", { class: "tabs", role: "tablist" });
  const panels = {};
  const buttons = {};
  for (const [key, label] of TABS) {
    panels[key] = h("section", { class: "panel", id: `panel-${key}`, hidden: true });
    buttons[key] = h("button", { class: "tab", id: `tab-${key}`, role: "tab", onclick: () => select(key) }, label);
    nav.append(buttons[key]);
  }
  main.append(header, nav, ...Object.values(panels));

  const timelineBox = h("div", { class: "timeline-box" });
  panels.timeline.append(timelineBox);
  const state = new StateView(panels.state, { base, runId, meta });
  const tokens = new TokensView(panels.tokens);
  const replay = new ReplayView(panels.replay, { base });
  const events = new EventsView(panels.events, { base, total: meta.run.events });
  const metaBox = h("div");
  panels.meta.append(metaBox);

  function select(key) {
    for (const [k] of TABS) {
      panels[k].hidden = k !== key;
      buttons[k].classList.toggle("active", k === key);
      buttons[k].setAttribute("aria-selected", String(k === key));
    }
    if (location.hash !== `#${key}`) history.replaceState(null, "", `#${key}`);
    if (key === "events") events.list.schedule();
  }

  function header_(m) {
    clear(status);
    status.append(statusBadge(m.run.status), m.run.live ? h("span", { class: "live-dot", title: "live" }, " live") : "");
    counts.textContent = `${m.run.events} events`;
  }

  // The timeline is drawn first (it reads few events); the folds (checkpoints' states, the
  // calls' tokens) come after it, so a big run's page shows before they are read.
  async function loadTimeline() {
    const read = firstTimeline || api(`${base}/timeline`);
    firstTimeline = null;
    drawTimeline(timelineBox, await read);
  }
  async function loadFolds() {
    const [checkpoints, calls] = await Promise.all([api(`${base}/checkpoints`), api(`${base}/calls`)]);
    state.set(checkpoints.checkpoints);
    tokens.set(calls.calls);
    replay.setCheckpoints(checkpoints.checkpoints);
  }
  const loadViews = () => Promise.all([loadTimeline(), loadFolds()]);

  header_(meta);
  drawMeta(metaBox, meta);
  await loadTimeline();
  const asked = location.hash.slice(1);
  select(asked in panels ? asked : "timeline");
  document.body.dataset.firstRender = String(performance.now());
  // body[data-loaded] says every view shows what the log held when last read.
  let reading = 0;
  const loading = (promise) => {
    reading += 1;
    delete document.body.dataset.loaded;
    return promise.catch((err) => main.append(h("p", { class: "error" }, err.message))).finally(() => {
      reading -= 1;
      if (reading === 0) document.body.dataset.loaded = "1";
    });
  };
  loading(loadFolds());

  if (!meta.run.live) return () => {};
  // Live: follow the run from the log; views that are folds are re-read (at most every
  // 400 ms) when something they show happened; tokens and event rows are applied as they come.
  let stale = false;
  let timer = null;
  const refresh = () => {
    stale = true;
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      if (!stale) return;
      stale = false;
      await loadViews().catch(() => {});
    }, 400);
  };
  const source = new EventSource(`/ui/api${base}/stream?after=0`);
  source.addEventListener("event", (e) => {
    const row = JSON.parse(e.data);
    events.add(row);
    counts.textContent = `${Math.max(events.list.total, row.seq + 1)} events`;
    if (row.type === "chat.token") tokens.addToken(row);
    else refresh();
  });
  source.addEventListener("end", async () => {
    source.close();
    meta = await api(base);
    header_(meta);
    drawMeta(metaBox, meta);
    await loading(loadViews());
    document.body.dataset.runEnded = "1";
  });
  return () => {
    source.close();
    if (timer) clearTimeout(timer);
  };
}
