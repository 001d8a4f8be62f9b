// The run's metadata: what its start recorded (graph digest, versions, config, trace id, with
// a link to the tracing backend when one is configured), its hash chain's verification, and
// how the page shows payloads (the log's redaction hook applied, content hidden).

import { h, clear, json, when } from "./dom.js";

export function drawMeta(box, meta) {
  clear(box);
  const run = meta.run;
  const chain = meta.chain;
  const rows = [
    ["run", h("span", { class: "mono" }, run.run_id)],
    ["thread", h("span", { class: "mono" }, run.thread_id)],
    ["graph", run.graph || ""],
    ["status", run.status],
    ["started", when(Date.parse(run.created_at))],
    ["last event", when(Date.parse(run.updated_at))],
    ["events", String(run.events)],
    ["from", run.origin_run_id ? `run ${run.origin_run_id} at checkpoint ${run.origin_checkpoint_id}` : "—"],
    ["graph digest", h("span", { class: "mono", id: "graph-digest" }, meta.graph_digest || "—")],
    ["versions", Object.entries(meta.versions || {}).map(([k, v]) => `${k} ${v}`).join(" · ")],
    ["durability", meta.durability || ""],
    ["trace id", h("span", {}, h("span", { class: "mono", id: "trace-id" }, meta.trace_id), " ",
      meta.trace_url ? h("a", { href: meta.trace_url, target: "_blank", rel: "noopener", id: "trace-link" }, "open trace") : h("span", { class: "muted" }, "(rewind ui --trace-url URL links it)"))],
    ["hash chain", h("span", { id: "chain", class: chain.ok ? "ok" : "error", dataset: { ok: String(chain.ok) } },
      chain.ok ? `verified: ${chain.checked} events intact` : `BROKEN at event ${chain.first_bad_seq}: ${chain.reason}`,
      chain.redacted ? ` (${chain.redacted} redacted)` : "")],
    ["shown", h("span", { id: "display" }, [
      meta.redaction ? `through the redaction hook ${meta.redaction}` : "as the log holds it",
      meta.hide_content ? " · message texts, tokens and tool arguments hidden" : "",
    ].join(""))],
  ];
  if (meta.error) rows.push(["error", h("span", { class: "error" }, `${meta.error.type}: ${meta.error.message}`)]);
  box.append(h("dl", { class: "meta", id: "meta" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h4", {}, "config"), h("pre", { class: "value" }, json(meta.config)),
    h("h4", {}, "input"), h("pre", { class: "value" }, json(meta.input)),
    ...(meta.process ? [h("h4", {}, "process"), h("pre", { class: "value" }, json(meta.process))] : []));
}
