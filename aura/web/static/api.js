// Aura's JSON API as the original SPA used it: the session cookie with CSRF for identity,
// a Sanctum personal access token in localStorage for /chat/*.

export const TOKEN_KEY = "aura:pat";
const XSRF_COOKIE = "XSRF-TOKEN";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `The server answered ${status}.`);
    this.status = status;
    this.errors = body.errors || {};
  }
}

// The session is gone: only logging in again helps.
export class SessionExpired extends Error {}

function cookie(name) {
  for (const part of document.cookie.split("; ")) {
    const equals = part.indexOf("=");
    if (part.slice(0, equals) === name) return decodeURIComponent(part.slice(equals + 1));
  }
  return null;
}

async function bodyOf(response) {
  try {
    return await response.json();
  } catch {
    return {};
  }
}

export async function primeCsrf() {
  await fetch("/sanctum/csrf-cookie", { credentials: "same-origin" });
}

function sendWithCsrf(method, path, body) {
  return fetch(path, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-XSRF-TOKEN": cookie(XSRF_COOKIE) || "",
    },
    body: JSON.stringify(body),
  });
}

// An unsafe request on the session cookie; a stale CSRF token (419) is refreshed and the
// request sent again.
export async function sessionRequest(method, path, body = {}) {
  if (!cookie(XSRF_COOKIE)) await primeCsrf();
  let response = await sendWithCsrf(method, path, body);
  if (response.status === 419) {
    await primeCsrf();
    response = await sendWithCsrf(method, path, body);
  }
  return response;
}

export function sessionPost(path, body = {}) {
  return sessionRequest("POST", path, body);
}

async function mintToken() {
  const response = await sessionPost("/api/auth/token", { name: "chat" });
  if (response.status === 401) throw new SessionExpired();
  const body = await bodyOf(response);
  if (!response.ok) throw new ApiError(response.status, body);
  localStorage.setItem(TOKEN_KEY, body.token);
  return body.token;
}

// Minting replaces the user's previous chat token, so concurrent callers share one mint.
let minting = null;

function mintOnce() {
  minting ??= mintToken().finally(() => {
    minting = null;
  });
  return minting;
}

function storedToken() {
  return localStorage.getItem(TOKEN_KEY);
}

async function renewToken(rejected) {
  const current = storedToken();
  if (current && current !== rejected) return current; // another request renewed it already
  localStorage.removeItem(TOKEN_KEY);
  return mintOnce();
}

function sendWithToken(method, path, body, token) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method,
    credentials: "omit", // the token alone speaks for the user, as it did towards Flask
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// A bearer request; on a 401 the token is minted once more and the request retried once.
export async function tokenRequest(method, path, body) {
  const token = storedToken() || (await mintOnce());
  let response = await sendWithToken(method, path, body, token);
  if (response.status === 401) {
    response = await sendWithToken(method, path, body, await renewToken(token));
  }
  const data = await bodyOf(response);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A token left behind by another account in this browser is dropped before first use.
export async function tokenFor(userId) {
  const me = await tokenRequest("GET", "/api/auth/me");
  if (me.user && me.user.id === userId) return;
  localStorage.removeItem(TOKEN_KEY);
  await mintOnce();
}

export async function logOut() {
  const token = storedToken();
  if (token) {
    await fetch("/api/auth/token/revoke", {
      method: "POST",
      credentials: "omit",
      headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    }).catch(() => {});
  }
  localStorage.removeItem(TOKEN_KEY);
  await sessionPost("/api/auth/logout");
}
