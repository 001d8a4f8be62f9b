// The page's shell: the session (sign-in when the server has an API key), the router
// (/ui lists runs, /ui/run/ID shows one), and the fetch helper every view uses.

import { h, clear } from "./dom.js";
import { showRuns } from "./runs.js";
import { showRun } from "./run.js";

const session = { csrf: null };
let leaving = null; // what the current view stops when another is shown

export async function api(path, { method = "GET", body } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET") headers["x-csrf-token"] = session.csrf || "";
  const response = await fetch(`/ui/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/session") {
    await signIn();
    return api(path, { method, body });
  }
  if (!response.ok) {
    throw new Error(data.detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

export function go(path) {
  history.pushState(null, "", path);
  route();
}

async function signIn() {
  const state = await api("/session");
  if (state.signed_in) {
    session.csrf = state.csrf;
    return;
  }
  const main = document.getElementById("main");
  clear(main);
  const error = h("p", { class: "error" });
  const key = h("input", { type: "password", name: "api_key", placeholder: "API key", autofocus: true });
  await new Promise((resolve) => {
    const form = h("form", { class: "signin", id: "signin" },
      h("h2", {}, "Sign in"),
      h("p", { class: "muted" }, "This server has an API key: give it once, the page keeps a session."),
      key, h("button", { type: "submit" }, "Sign in"), error);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const done = await api("/session", { method: "POST", body: { api_key: key.value } });
        session.csrf = done.csrf;
        resolve();
      } catch (err) {
        error.textContent = err.message;
      }
    });
    main.append(form);
  });
}

async function route() {
  if (leaving) leaving();
  leaving = null;
  const main = document.getElementById("main");
  const crumbs = document.getElementById("crumbs");
  clear(main);
  clear(crumbs);
  for (const key of ["firstRender", "loaded", "runEnded"]) delete document.body.dataset[key];
  const match = location.pathname.match(/^\/ui\/run\/([^/]+)/);
  try {
    if (match) {
      leaving = await showRun(main, crumbs, decodeURIComponent(match[1]));
    } else {
      leaving = await showRuns(main, crumbs);
    }
  } catch (err) {
    main.append(h("p", { class: "error" }, err.message));
  }
}

document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-link]");
  if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  go(link.getAttribute("href"));
});
window.addEventListener("popstate", route);

(async () => {
  await signIn();
  await route();
})();
