// The chat page. Everything a user wrote reaches the page through textContent, never as HTML.

import { ApiError, SessionExpired, logOut, primeCsrf, tokenFor, tokenRequest } from "./api.js";

const byId = (id) => document.getElementById(id);
const ui = {
  list: byId("conversation-list"),
  noConversations: byId("no-conversations"),
  more: byId("more-conversations"),
  newConversation: byId("new-conversation"),
  thread: document.querySelector(".thread"),
  status: byId("status"),
  title: byId("thread-title"),
  renameButton: byId("rename-button"),
  deleteButton: byId("delete-button"),
  renameForm: byId("rename-form"),
  renameTitle: byId("rename-title"),
  renameCancel: byId("rename-cancel"),
  deleteConfirm: byId("delete-confirm"),
  deleteYes: byId("delete-yes"),
  deleteNo: byId("delete-no"),
  messages: byId("messages"),
  emptyThread: byId("empty-thread"),
  sendForm: byId("send-form"),
  message: byId("message"),
  sendButton: byId("send-form").querySelector("button[type=submit]"),
  logout: byId("logout"),
};
const USER_ID = Number(byId("user-name").dataset.userId);
const PAGE_SIZE = 50;
const ROLES = new Set(["user", "assistant", "system"]);
const COLOR = /^#[0-9A-Fa-f]{6}$/;
const FIELD_INPUTS = { content: ui.message, title: ui.renameTitle };

const state = {
  conversations: [],
  nextCursor: null,
  current: null,
  sending: false,
  pending: null,
};

// ---- feedback ---------------------------------------------------------------------------

function showStatus(message) {
  ui.status.textContent = message;
  ui.status.hidden = false;
}

function clearStatus() {
  ui.status.hidden = true;
  ui.status.textContent = "";
}

function setFieldError(field, message) {
  const input = FIELD_INPUTS[field];
  byId(`${field}-error`).textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// A 422 on a field this page shows goes beside the field; anything else to the status line.
function showApiError(error) {
  const field = Object.keys(error.errors).find((name) => name in FIELD_INPUTS);
  if (error.status === 422 && field) {
    setFieldError(field, error.errors[field][0]);
    FIELD_INPUTS[field].focus();
    return;
  }
  showStatus(error.message);
}

async function guarded(action) {
  clearStatus();
  try {
    await action();
  } catch (error) {
    if (error instanceof SessionExpired) window.location.assign("/login");
    else if (error instanceof ApiError) showApiError(error);
    else showStatus("Aura could not be reached. Check your connection and try again.");
  }
}

// ---- rendering --------------------------------------------------------------------------

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// White or near-black text, whichever reads better on a stored theme colour.
function textOn(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111318" : "#ffffff";
}

function applyTheme(conversation) {
  const theme = (conversation && conversation.theme) || {};
  const colors = [
    ["--bubble", theme.bubble_color],
    ["--thread-bg", theme.background_color],
  ];
  for (const [name, color] of colors) {
    if (COLOR.test(color || "")) {
      ui.thread.style.setProperty(name, color);
      ui.thread.style.setProperty(`${name}-text`, textOn(color));
    } else {
      ui.thread.style.removeProperty(name);
      ui.thread.style.removeProperty(`${name}-text`);
    }
  }
}

function conversationItem(conversation) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "conversation";
  button.textContent = conversation.title;
  if (conversation === state.current) button.setAttribute("aria-current", "true");
  button.addEventListener("click", () => guarded(() => open(conversation, true)));
  const item = document.createElement("li");
  item.append(button);
  return item;
}

function renderList() {
  ui.list.replaceChildren(...state.conversations.map(conversationItem));
  ui.noConversations.hidden = state.conversations.length > 0;
  ui.more.hidden = !state.nextCursor;
}

function renderHead() {
  const title = state.current ? state.current.title : "New conversation";
  ui.title.textContent = title;
  document.title = `${title} · Aura`;
  ui.renameButton.disabled = !state.current;
  ui.deleteButton.disabled = !state.current;
  applyTheme(state.current);
  // The open conversation lives in the fragment, so a reload comes back to it.
  const url = state.current ? `#${state.current.id}` : window.location.pathname;
  window.history.replaceState(null, "", url);
}

function messageItem(message) {
  const item = document.createElement("li");
  item.className = `message ${ROLES.has(message.role) ? message.role : "user"}`;
  const content = document.createElement("p");
  content.className = "content";
  content.textContent = message.content;
  const time = document.createElement("time");
  time.dateTime = message.created_at || "";
  time.textContent = when(message.created_at);
  item.append(content, time);
  return item;
}

function renderMessages(messages) {
  ui.messages.replaceChildren(...messages.map(messageItem));
  ui.emptyThread.hidden = messages.length > 0;
  ui.messages.lastElementChild?.scrollIntoView({ block: "end" });
}

function closePanels() {
  ui.renameForm.hidden = true;
  ui.deleteConfirm.hidden = true;
  setFieldError("title", "");
}

function show(conversation) {
  state.current = conversation;
  closePanels();
  renderList();
  renderHead();
}

// ---- talking to /chat -------------------------------------------------------------------

async function historyPage(cursor) {
  const query = new URLSearchParams({ limit: PAGE_SIZE });
  if (cursor) query.set("cursor", cursor);
  const page = await tokenRequest("GET", `/chat/history?${query}`);
  const known = new Set(state.conversations.map((conversation) => conversation.id));
  state.conversations.push(...page.conversations.filter((item) => !known.has(item.id)));
  state.nextCursor = page.next_cursor || null;
  renderList();
}

async function allMessages(conversation) {
  const path = `/chat/conversations/${encodeURIComponent(conversation.id)}/messages`;
  const messages = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: 100 });
    if (cursor) query.set("cursor", cursor);
    const page = await tokenRequest("GET", `${path}?${query}`);
    messages.push(...page.messages);
    cursor = page.next_cursor;
  } while (cursor);
  return messages;
}

async function open(conversation, focusComposer) {
  show(conversation);
  renderMessages([]);
  const messages = await allMessages(conversation);
  if (state.current !== conversation) return; // another conversation was opened meanwhile
  renderMessages(messages);
  if (focusComposer) ui.message.focus();
}

async function startConversation() {
  const created = await tokenRequest("POST", "/chat/start", {});
  const conversation = { ...created, updated_at: created.created_at, last_message_at: null };
  state.conversations.unshift(conversation);
  show(conversation);
  renderMessages([]);
  return conversation;
}

// The first message may give an untitled conversation its title; the history has it.
async function refreshFromHistory(conversation) {
  const page = await tokenRequest("GET", "/chat/history?limit=10");
  const fresh = page.conversations.find((item) => item.id === conversation.id);
  if (fresh) Object.assign(conversation, fresh);
  renderList();
  if (state.current === conversation) renderHead();
}

function moveToTop(conversation) {
  state.conversations = [
    conversation,
    ...state.conversations.filter((item) => item !== conversation),
  ];
  renderList();
}

// One id per message being sent, kept until it is stored: when a reply is lost and the same
// text is sent again, the API recognises the id and stores the message once.
function clientMessageId(conversation, content) {
  const pending = state.pending;
  if (pending?.conversation !== conversation || pending.content !== content) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    state.pending = { conversation, content, id };
  }
  return state.pending.id;
}

async function sendMessage() {
  const content = ui.message.value;
  if (!content.trim() || state.sending) return;
  setFieldError("content", "");
  state.sending = true;
  ui.sendButton.disabled = true;
  try {
    const conversation = state.current || (await startConversation());
    const first = ui.messages.childElementCount === 0;
    const reply = await tokenRequest("POST", "/chat/message", {
      conversation_id: conversation.id,
      content,
      client_message_id: clientMessageId(conversation, content),
    });
    state.pending = null;
    const sent = { role: "user", content, ...reply.message };
    conversation.last_message_at = sent.created_at;
    if (state.current === conversation) {
      ui.messages.append(messageItem(sent));
      ui.emptyThread.hidden = true;
      ui.messages.lastElementChild.scrollIntoView({ block: "end" });
      ui.message.value = "";
    }
    moveToTop(conversation);
    if (first) await refreshFromHistory(conversation);
  } finally {
    state.sending = false;
    ui.sendButton.disabled = false;
    ui.message.focus();
  }
}

async function rename() {
  setFieldError("title", "");
  const conversation = state.current;
  const path = `/chat/conversations/${encodeURIComponent(conversation.id)}`;
  const reply = await tokenRequest("PUT", path, { title: ui.renameTitle.value });
  Object.assign(conversation, reply.conversation);
  if (state.current === conversation) show(conversation);
  else renderList();
  ui.renameButton.focus();
}

async function remove() {
  const conversation = state.current;
  await tokenRequest("DELETE", `/chat/conversations/${encodeURIComponent(conversation.id)}`);
  state.conversations = state.conversations.filter((item) => item !== conversation);
  show(null);
  renderMessages([]);
  ui.newConversation.focus();
}

// ---- wiring -----------------------------------------------------------------------------

function openRename() {
  closePanels();
  ui.renameTitle.value = state.current.title;
  ui.renameForm.hidden = false;
  ui.renameTitle.focus();
  ui.renameTitle.select();
}

function openDelete() {
  closePanels();
  ui.deleteConfirm.hidden = false;
  ui.deleteNo.focus();
}

function cancelPanel(returnTo) {
  closePanels();
  returnTo.focus();
}

function wire() {
  ui.sendForm.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(sendMessage);
  });
  ui.message.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.sendForm.requestSubmit();
    }
  });
  ui.newConversation.addEventListener("click", () =>
    guarded(async () => {
      await startConversation();
      ui.message.focus();
    }),
  );
  ui.more.addEventListener("click", () => guarded(() => historyPage(state.nextCursor)));
  ui.renameButton.addEventListener("click", openRename);
  ui.renameForm.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(rename);
  });
  ui.renameCancel.addEventListener("click", () => cancelPanel(ui.renameButton));
  ui.renameForm.addEventListener("keydown", (event) => {
    if (event.key === "Escape") cancelPanel(ui.renameButton);
  });
  ui.deleteButton.addEventListener("click", openDelete);
  ui.deleteNo.addEventListener("click", () => cancelPanel(ui.deleteButton));
  ui.deleteYes.addEventListener("click", () => guarded(remove));
  ui.logout.addEventListener("click", () =>
    guarded(async () => {
      await logOut();
      window.location.assign("/login");
    }),
  );
}

// Prime CSRF and make sure the stored token is this user's, as the SPA did on load.
async function boot() {
  wire();
  await primeCsrf();
  await tokenFor(USER_ID);
  await historyPage(null);
  const wanted = decodeURIComponent(window.location.hash.slice(1));
  const first = state.conversations.find((item) => item.id === wanted) || state.conversations[0];
  if (first) await open(first, false);
  else show(null);
  ui.message.focus();
}

guarded(boot);
