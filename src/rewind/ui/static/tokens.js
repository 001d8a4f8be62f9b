// Token playback: each chat-model call's tokens as they were streamed, with their timing
// (hover a token for its offset), played back at the recorded pace, and the call's usage.
// On a live run, tokens are appended as they arrive. Tokens are kept by seq: a call's tokens
// read from the server and those the live stream brings merge without a gap or a duplicate.

import { h, clear, duration } from "./dom.js";

const SHOWN = 2000; // tokens drawn per call before "show all" (a long call stays cheap)

export class TokensView {
  constructor(panel) {
    this.box = h("div", { id: "calls" });
    panel.append(this.box);
    this.calls = new Map(); // call id -> {call, text, count, card, seqs}
    this.order = [];
    this.timers = [];
  }

  set(calls) {
    this.stop();
    const merged = [];
    for (const call of calls) {
      const known = this.calls.get(call.call_id);
      if (known) {
        const arrived = new Map(known.call.tokens.map((t) => [t.seq, t.arrived]));
        for (const t of call.tokens) t.arrived = arrived.get(t.seq);
        const seqs = new Set(call.tokens.map((t) => t.seq));
        for (const t of known.call.tokens) if (!seqs.has(t.seq)) call.tokens.push(t);
        call.tokens.sort((a, b) => a.seq - b.seq);
      }
      merged.push(call);
    }
    const given = new Set(calls.map((c) => c.call_id));
    for (const id of this.order) if (!given.has(id)) merged.push(this.calls.get(id).call);
    clear(this.box);
    this.calls.clear();
    this.order = [];
    if (!merged.length) this.box.append(h("p", { class: "muted", id: "no-calls" }, "No chat-model calls."));
    for (const call of merged) this.draw(call);
  }

  draw(call) {
    const text = h("div", { class: "token-text" });
    for (const token of call.tokens.slice(0, SHOWN)) text.append(tokenSpan(token));
    if (call.tokens.length > SHOWN) {
      const rest = h("button", { class: "more", onclick: () => {
        rest.remove();
        for (const token of call.tokens.slice(SHOWN)) text.append(tokenSpan(token));
      } }, `show ${call.tokens.length - SHOWN} more tokens`);
      text.append(rest);
    }
    const took = call.end ? duration(call.end - call.start) : "streaming";
    const usage = call.usage ? Object.entries(call.usage).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${v}`).join(" · ") : "";
    const count = h("span", { class: "token-count" }, String(call.tokens.length));
    const play = h("button", { class: "play", onclick: () => this.play(call, text) }, "▶ Play");
    const speed = h("select", { class: "speed" }, ["1", "4", "16"].map((s) => h("option", { value: s }, `${s}×`)));
    const card = h("article", { class: "call-card", dataset: { callId: call.call_id, index: String(this.order.length) } },
      h("header", {}, h("b", {}, call.model), h("span", { class: "muted" }, ` in ${call.node} · `), count, " tokens · ",
        h("span", { class: "muted" }, `first token ${call.ttft != null ? duration(call.ttft * 1000) : "—"} · ${took}`),
        call.finish_reason ? h("span", { class: "muted" }, ` · finish ${call.finish_reason}`) : "",
        " ", play, speed),
      text,
      h("div", { class: "usage muted" }, usage ? `usage: ${usage}` : ""),
      timingBars(call));
    this.calls.set(call.call_id, { call, text, count, card, seqs: new Set(call.tokens.map((t) => t.seq)) });
    this.order.push(call.call_id);
    this.box.append(card);
  }

  addToken(row) {
    let entry = this.calls.get(row.call_id);
    if (!entry) {
      const none = this.box.querySelector("#no-calls");
      if (none) none.remove();
      this.draw({ call_id: row.call_id, node: row.node, model: "chat model", start: row.ts, tokens: [], usage: null, ttft: null, end: null });
      entry = this.calls.get(row.call_id);
    }
    if (entry.seqs.has(row.seq)) return;
    // When it reached the page: what bench/ui.py measures a live page's pace by.
    const token = { seq: row.seq, t: row.ts - entry.call.start, text: row.text, tools: [], arrived: Date.now() };
    entry.seqs.add(row.seq);
    entry.call.tokens.push(token);
    entry.text.append(tokenSpan(token)); // a live call shows every token as it comes
    entry.count.textContent = String(entry.call.tokens.length);
  }

  play(call, text) {
    this.stop();
    const speed = Number(text.parentElement.querySelector(".speed").value) || 1;
    clear(text);
    text.classList.add("playing");
    for (const token of call.tokens) {
      this.timers.push(setTimeout(() => text.append(tokenSpan(token)), token.t / speed));
    }
    const last = call.tokens.length ? call.tokens[call.tokens.length - 1].t : 0;
    this.timers.push(setTimeout(() => text.classList.remove("playing"), last / speed + 1));
  }

  stop() {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}

function tokenSpan(token) {
  const shown = token.text || (token.tools && token.tools.length ? `⟨${token.tools.join(" ")}⟩` : "∅");
  const dataset = { t: token.t.toFixed(1), seq: String(token.seq) };
  if (token.arrived) dataset.arrived = String(token.arrived);
  const kind = token.text === "[redacted]" ? "token redacted" : token.text ? "token" : "token empty";
  return h("span", { class: kind, title: `+${duration(token.t)}`, dataset }, shown);
}

function timingBars(call) {
  // Gaps between tokens, as a strip of bars: where the stream hesitated.
  if (call.tokens.length < 2) return "";
  const gaps = call.tokens.slice(1).map((t, i) => t.t - call.tokens[i].t);
  const most = Math.max(...gaps, 1);
  return h("div", { class: "gaps", title: "time between tokens" },
    gaps.slice(0, 400).map((g) => h("span", { class: "gap", style: { height: `${Math.max((g / most) * 100, 4)}%` }, title: duration(g) })));
}
