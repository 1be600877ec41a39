// The login page: sign in, then on to the page for the role. Already signed in: straight there.

import { ApiError, login, pageFor, session } from "./api.js";

const form = document.getElementById("login-form");
const message = document.getElementById("login-message");
const submit = document.getElementById("login-submit");

/** Where to go: `?next=` when it is one of our pages, else the role's page. */
function destination(role) {
  const next = new URLSearchParams(location.search).get("next") || "";
  const own = pageFor(role);
  // Only a path on this site, and only the page this role has (no open redirect).
  if (/^\/ui\/[a-z]+(\?[^#]*)?$/.test(next) && next.split("?")[0] === own) return next;
  return own;
}

function show(text) {
  message.textContent = text;
  message.hidden = !text;
}

async function onSubmit(event) {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    show("Enter your user name and password.");
    (username ? form.password : form.username).focus();
    return;
  }
  submit.disabled = true;
  show("");
  try {
    const me = await login(username, password);
    location.replace(destination(me.role));
  } catch (exc) {
    form.password.value = "";
    if (exc instanceof ApiError && exc.status === 401) {
      show("Wrong user name or password.");
    } else if (exc instanceof ApiError && exc.status === 429) {
      const wait = exc.retryAfter ? ` Try again in ${Math.ceil(exc.retryAfter / 60)} min.` : " Try again later.";
      show(`Too many failed attempts.${wait}`);
    } else if (exc instanceof ApiError && exc.status === 0) {
      show("The controller cannot be reached. Check the network and try again.");
    } else {
      show(`Sign-in failed: ${exc.message}`);
    }
    form.password.focus();
  } finally {
    submit.disabled = false;
  }
}

form.addEventListener("submit", onSubmit);

const me = await session({ redirect: false }).catch(() => null);
if (me) location.replace(destination(me.role));
else form.username.focus();
