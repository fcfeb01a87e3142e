// The log-in and register forms: send the fields as JSON, show the API's errors beside them.

import { sessionPost } from "./api.js";

const form = document.getElementById("account-form");
const formError = document.getElementById("form-error");
const submit = form.querySelector("button[type=submit]");

function fieldsOf() {
  const values = {};
  for (const input of form.querySelectorAll("input[name]")) {
    values[input.name] = input.type === "checkbox" ? input.checked : input.value;
  }
  return values;
}

function clearErrors() {
  formError.hidden = true;
  formError.textContent = "";
  for (const input of form.querySelectorAll("input[name]")) {
    input.removeAttribute("aria-invalid");
    const slot = document.getElementById(`${input.name}-error`);
    if (slot) slot.textContent = "";
  }
}

function showFormError(message) {
  formError.textContent = message;
  formError.hidden = false;
}

// Each field's first message goes beside it; focus moves to the first field in error.
function showFieldErrors(errors, message) {
  let first = null;
  for (const [field, messages] of Object.entries(errors)) {
    const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
    const slot = document.getElementById(`${field}-error`);
    if (!input || !slot) {
      showFormError(messages[0] || message);
      continue;
    }
    slot.textContent = messages[0];
    input.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  (first || form.querySelector("input[name]")).focus();
}

async function send(event) {
  event.preventDefault();
  clearErrors();
  submit.disabled = true;
  try {
    const response = await sessionPost(form.dataset.endpoint, fieldsOf());
    if (response.ok) {
      window.location.assign("/chat");
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (response.status === 422 && body.errors) {
      showFieldErrors(body.errors, body.message);
    } else {
      showFormError(body.message || `Something went wrong (${response.status}).`);
      form.querySelector("input[name]").focus();
    }
  } catch {
    showFormError("Aura could not be reached. Check your connection and try again.");
  } finally {
    submit.disabled = false;
  }
}

form.addEventListener("submit", send);
