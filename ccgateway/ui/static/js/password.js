// Change your own password (POST /v1/session/password): this session stays, every other
// session of yours is signed out. Reached from every page's top bar.

import { ApiError, api, logout, pageFor, session } from "./api.js";
import { setText } from "./dom.js";

const MIN_PASSWORD = 10;

const me = await session();
const form = document.getElementById("password-form");
const message = document.getElementById("pw-message");
const submit = document.getElementById("pw-submit");

function show(text, ok = false) {
  message.textContent = text;
  message.className = `message ${ok ? "ok" : "error"}`;
  message.hidden = !text;
}

function problem(exc) {
  if (!(exc instanceof ApiError)) return String(exc);
  if (exc.status === 403) return "The current password is wrong.";
  if (exc.status === 429) {
    const wait = exc.retryAfter ? ` Try again in ${Math.ceil(exc.retryAfter / 60)} min.` : " Try again later.";
    return `Too many wrong attempts.${wait}`;
  }
  if (exc.status === 401) return "Your session has ended: sign in again.";
  if (exc.status === 0) return "The controller cannot be reached. Try again.";
  return exc.message;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const current = form.current.value;
  const fresh = form.new.value;
  let trouble = "";
  if (!current) trouble = "Enter your current password.";
  else if (fresh.length < MIN_PASSWORD) trouble = `The new password needs at least ${MIN_PASSWORD} characters.`;
  else if (fresh !== form.new2.value) trouble = "The two new passwords differ.";
  else if (fresh === current) trouble = "The new password is the current one.";
  if (trouble) {
    show(trouble);
    return;
  }
  submit.disabled = true;
  try {
    await api("POST", "/v1/session/password", { current, new: fresh });
    form.current.value = form.new.value = form.new2.value = "";
    show("Password changed. Your other sessions were signed out; this one stays signed in.", true);
  } catch (exc) {
    show(problem(exc));
    if (exc instanceof ApiError && exc.status === 403) form.current.focus();
  } finally {
    submit.disabled = false;
  }
});

setText(document.getElementById("me"), `${me.display_name || me.username} (${me.role})`);
document.getElementById("pw-username").value = me.username; // for password managers
document.getElementById("back").href = pageFor(me.role);
document.getElementById("logout").addEventListener("click", () => logout());
form.current.focus();
