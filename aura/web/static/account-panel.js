// The chat page's account panel: where the user is signed in, their data, deleting the account.
// Session details (a user agent is whatever a client sent) reach the page as text only.

import { TOKEN_KEY, sessionRequest } from "./api.js";

const byId = (id) => document.getElementById(id);
const panel = {
  root: byId("account-panel"),
  sessions: byId("session-list"),
  status: byId("account-status"),
  deleteForm: byId("delete-account-form"),
  password: byId("delete-account-password"),
  passwordError: byId("delete-account-error"),
};

function say(message) {
  panel.status.textContent = message;
  panel.status.hidden = !message;
}

async function bodyOf(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

function toLogin() {
  localStorage.removeItem(TOKEN_KEY);
  window.location.assign("/login");
}

function describe(session) {
  const when = new Date(session.last_activity).toLocaleString();
  const where = session.ip_address || "unknown address";
  return `${where} · last active ${when}`;
}

function sessionItem(session) {
  const item = document.createElement("li");
  const agent = document.createElement("p");
  agent.className = "session-agent";
  agent.textContent = session.user_agent || "Unknown browser";
  const detail = document.createElement("p");
  detail.className = "hint";
  detail.textContent = describe(session);
  item.append(agent, detail);
  if (session.current) {
    const mine = document.createElement("p");
    mine.className = "hint";
    mine.textContent = "This browser";
    item.append(mine);
    return item;
  }
  const end = document.createElement("button");
  end.type = "button";
  end.textContent = "End";
  end.setAttribute("aria-label", `End the session of ${agent.textContent}`);
  end.addEventListener("click", () => endSession(session.id));
  item.append(end);
  return item;
}

async function showSessions() {
  const response = await fetch("/api/auth/sessions", {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (response.status === 401) return toLogin();
  const body = await bodyOf(response);
  if (!response.ok) return say(body.message || "Your sessions could not be listed.");
  panel.sessions.replaceChildren(...body.sessions.map(sessionItem));
}

async function endSession(fingerprint) {
  say("");
  const response = await sessionRequest(
    "DELETE", `/api/auth/sessions/${encodeURIComponent(fingerprint)}`,
  );
  if (response.status === 401) return toLogin();
  if (!response.ok && response.status !== 404) {
    return say((await bodyOf(response)).message || "The session could not be ended.");
  }
  await showSessions();
}

async function deleteAccount(event) {
  event.preventDefault();
  say("");
  panel.passwordError.textContent = "";
  panel.password.removeAttribute("aria-invalid");

  const response = await sessionRequest("DELETE", "/api/auth/account", {
    password: panel.password.value,
  });
  const body = await bodyOf(response);

  if (response.ok) return toLogin();
  if (response.status === 422) {
    panel.passwordError.textContent = (body.errors?.password || [body.message])[0];
    panel.password.setAttribute("aria-invalid", "true");
    return panel.password.focus();
  }
  if (response.status === 401) return toLogin();
  // 503: the account is already locked and its deletion finishes once the store is back.
  say(body.message || "The account could not be deleted. Try again later.");
  if (response.status === 503) localStorage.removeItem(TOKEN_KEY);
}

function guard(action) {
  return (...args) =>
    action(...args).catch(() => say("Aura could not be reached. Check your connection."));
}

panel.root.addEventListener("toggle", guard(async () => {
  if (panel.root.open) await showSessions();
}));
panel.deleteForm.addEventListener("submit", guard(deleteAccount));
