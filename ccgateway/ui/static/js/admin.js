// The admin page: people's accounts (/v1/users) and API keys (/v1/keys). Admins only; anyone
// else is sent on to their own page (the API refuses them anyway). Everything the API says
// reaches the page as text; a refusal shows the API's own message next to the form.

import { ApiError, api, logout, pageFor, session, watchIdle } from "./api.js";
import { el, fmtTime, setText } from "./dom.js";

const MIN_PASSWORD = 10; // the API's rule, checked here first to save a round trip

const me = await session();
if (me.role !== "admin") {
  location.replace(pageFor(me.role));
  await new Promise(() => {}); // this page is not theirs: stop here
}
watchIdle(me);

const $ = (id) => document.getElementById(id);
let agents = []; // [{id, name}] from GET /v1/agents
const users = new Map(); // username -> UserOut

// --- small helpers ----------------------------------------------------------------------

function report(text, ok = true) {
  const results = $("admin-result");
  results.prepend(el("p", { class: `message ${ok ? "ok" : "error"}` }, `${fmtTime(Date.now() / 1000)} ${text}`));
  while (results.childElementCount > 3) results.lastElementChild.remove();
}

function show(node, text) {
  node.textContent = text || "";
  node.hidden = !text;
}

/** What to tell the person about a failed request: the API's message, or why none came. */
function problem(exc) {
  if (exc instanceof ApiError && exc.status === 0) return "The controller cannot be reached. Try again.";
  if (exc instanceof ApiError && exc.status === 403) return `Refused: ${exc.message}`;
  return exc?.message || String(exc);
}

function passwordProblem(password, again) {
  if (password.length < MIN_PASSWORD) return `The password needs at least ${MIN_PASSWORD} characters.`;
  if (password !== again) return "The two passwords differ.";
  return "";
}

function epochOf(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t / 1000;
}

function created(iso) {
  return el("time", { datetime: iso || "" }, fmtTime(epochOf(iso), { date: true }));
}

/** Fill an agent <select>; an agent no longer configured stays choosable as it is. */
function fillAgents(select, selected) {
  const options = agents.map((a) => el("option", { value: a.id, selected: a.id === selected }, a.name && a.name !== a.id ? `${a.id} · ${a.name}` : a.id));
  if (selected && !agents.some((a) => a.id === selected)) options.unshift(el("option", { value: selected, selected: true }, `${selected} (not configured)`));
  if (!options.length) options.push(el("option", { value: "", disabled: true, selected: true }, "No agents: create one first"));
  select.replaceChildren(...options);
}

/** Show the agent field only for role agent; returns the function that syncs it. */
function agentFieldFollowsRole(roleSelect, field) {
  const sync = () => {
    field.hidden = roleSelect.value !== "agent";
  };
  roleSelect.addEventListener("change", sync);
  sync();
  return sync;
}

function button(text, testid, label, onclick, cls) {
  return el("button", { type: "button", class: cls, "data-testid": testid, "aria-label": label, onclick }, text);
}

// --- the confirm step (a real dialog, not window.confirm) --------------------------------

const confirmDialog = $("confirm-dialog");
let confirmed = null; // the async action the Delete button runs

function confirmThen(title, text, action) {
  setText($("confirm-h"), title);
  setText($("confirm-text"), text);
  show($("confirm-message"), "");
  confirmed = action;
  confirmDialog.showModal();
  $("confirm-no").focus(); // the safe choice has the focus
}

$("confirm-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const yes = $("confirm-yes");
  yes.disabled = true;
  try {
    await confirmed();
    confirmDialog.close();
  } catch (exc) {
    show($("confirm-message"), problem(exc));
  } finally {
    yes.disabled = false;
  }
});
$("confirm-no").addEventListener("click", () => confirmDialog.close());

// --- users ------------------------------------------------------------------------------

function userRow(u) {
  const name = u.username;
  return el(
    "tr",
    { "data-testid": `user-row-${name}`, dataset: { username: name } },
    el("th", { scope: "row", "data-testid": "user-name" }, name),
    el("td", { "data-testid": "user-display-name" }, u.display_name),
    el("td", { "data-testid": "user-role" }, u.role),
    el("td", { "data-testid": "user-agent" }, u.agent_id || "–"),
    el("td", { "data-testid": "user-device" }, u.device || "–"),
    el("td", { class: "nowrap" }, created(u.created_at)),
    el(
      "td",
      { class: "actions" },
      button("Edit", `user-edit-${name}`, `Edit ${name}`, () => openEdit(name)),
      button("Password", `user-password-${name}`, `Set a new password for ${name}`, () => openPassword(name)),
      button("Delete", `user-delete-${name}`, `Delete ${name}`, () => askDeleteUser(name), "danger"),
    ),
  );
}

function drawUsers() {
  const list = [...users.values()].sort((a, b) => a.username.localeCompare(b.username));
  $("user-rows").replaceChildren(...list.map(userRow));
  setText($("users-count"), list.length);
  $("users-empty").hidden = list.length > 0;
}

async function loadUsers() {
  const list = await api("GET", "/v1/users");
  users.clear();
  for (const u of list) users.set(u.username, u);
  drawUsers();
}

function focusRowButton(testid) {
  document.querySelector(`[data-testid="${CSS.escape(testid)}"]`)?.focus();
}

const newUser = $("new-user");
agentFieldFollowsRole($("nu-role"), $("nu-agent-field"));

newUser.addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = $("nu-message");
  const f = newUser.elements;
  const username = f.username.value.trim();
  const role = f.role.value;
  let trouble = "";
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(username)) trouble = "The user name is 1-64 of letters, digits and . _ @ -";
  else if (role === "agent" && !f.agent_id.value) trouble = "Choose the agent this user is.";
  else trouble = passwordProblem(f.password.value, f.password2.value);
  if (trouble) {
    show(message, trouble);
    return;
  }
  const body = { username, password: f.password.value, role, display_name: f.display_name.value.trim() };
  if (role === "agent") body.agent_id = f.agent_id.value;
  if (f.device.value.trim()) body.device = f.device.value.trim();
  const submit = newUser.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const user = await api("POST", "/v1/users", body);
    users.set(user.username, user);
    drawUsers();
    show(message, "");
    for (const name of ["username", "display_name", "device", "password", "password2"]) f[name].value = "";
    report(`Created user ${user.username} (${user.role}).`);
  } catch (exc) {
    show(message, problem(exc));
  } finally {
    submit.disabled = false;
  }
});

// Edit: role, agent, device, display name; only what changed is sent (PATCH).
const editDialog = $("edit-dialog");
const editForm = $("edit-form");
const syncEditRole = agentFieldFollowsRole($("ed-role"), $("ed-agent-field"));
let editing = null;

function openEdit(username) {
  const u = users.get(username);
  if (!u) return;
  editing = u;
  const f = editForm.elements;
  setText($("edit-h"), `Edit ${u.username}`);
  f.display_name.value = u.display_name || "";
  f.role.value = u.role;
  fillAgents(f.agent_id, u.agent_id);
  f.device.value = u.device || "";
  syncEditRole();
  show($("ed-message"), "");
  editDialog.showModal();
}

function editChanges(u) {
  const f = editForm.elements;
  const changes = {};
  const displayName = f.display_name.value.trim();
  if (displayName !== (u.display_name || "")) changes.display_name = displayName;
  const role = f.role.value;
  if (role !== u.role) changes.role = role;
  const agentId = role === "agent" ? f.agent_id.value || null : null;
  if (agentId !== (u.agent_id ?? null)) changes.agent_id = agentId;
  const device = f.device.value.trim() || null;
  if (device !== (u.device ?? null)) changes.device = device;
  return changes;
}

editForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const u = editing;
  const message = $("ed-message");
  if (editForm.elements.role.value === "agent" && !editForm.elements.agent_id.value) {
    show(message, "Choose the agent this user is.");
    return;
  }
  const changes = editChanges(u);
  if (!Object.keys(changes).length) {
    editDialog.close();
    return;
  }
  try {
    const saved = await api("PATCH", `/v1/users/${encodeURIComponent(u.username)}`, changes);
    users.set(saved.username, saved);
    drawUsers();
    editDialog.close();
    report(`Saved ${saved.username}: ${Object.keys(changes).join(", ").replaceAll("_", " ")}.`);
    if (saved.username === me.username && saved.role !== "admin") location.replace(pageFor(saved.role));
    focusRowButton(`user-edit-${saved.username}`);
  } catch (exc) {
    show(message, problem(exc));
  }
});
$("ed-cancel").addEventListener("click", () => editDialog.close());

// A new password set by the admin (PATCH password): every session of that user ends.
const passwordDialog = $("password-dialog");
const passwordForm = $("password-form");
let resetting = null;

function openPassword(username) {
  resetting = username;
  setText($("pw-who"), username);
  passwordForm.reset();
  show($("pw-message"), "");
  passwordDialog.showModal();
}

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = passwordForm.elements;
  const message = $("pw-message");
  const trouble = passwordProblem(f.password.value, f.password2.value);
  if (trouble) {
    show(message, trouble);
    return;
  }
  try {
    await api("PATCH", `/v1/users/${encodeURIComponent(resetting)}`, { password: f.password.value });
    passwordForm.reset();
    passwordDialog.close();
    report(`New password set for ${resetting}; their sessions were signed out.`);
    focusRowButton(`user-password-${resetting}`);
  } catch (exc) {
    show(message, problem(exc));
  }
});
$("pw-cancel").addEventListener("click", () => passwordDialog.close());
passwordDialog.addEventListener("close", () => passwordForm.reset()); // no password left behind

function askDeleteUser(username) {
  const you = username === me.username ? " This is you: you will be signed out." : "";
  confirmThen(`Delete user ${username}?`, `${username} can no longer sign in, and their sessions end.${you}`, async () => {
    await api("DELETE", `/v1/users/${encodeURIComponent(username)}`);
    users.delete(username);
    drawUsers();
    report(`Deleted user ${username}.`);
    $("users-h").focus(); // its row is gone: the focus goes back to the list
  });
}

// --- API keys ---------------------------------------------------------------------------

function keyRow(k) {
  return el(
    "tr",
    { "data-testid": `key-row-${k.id}`, dataset: { name: k.name } },
    el("th", { scope: "row", "data-testid": "key-name" }, k.name),
    el("td", { "data-testid": "key-role" }, k.role),
    el("td", { "data-testid": "key-agent" }, k.agent_id || "–"),
    el("td", null, el("code", null, k.id)),
    el("td", { class: "nowrap" }, created(k.created_at)),
    el("td", { class: "actions" }, button("Delete", `key-delete-${k.id}`, `Delete key ${k.name}`, () => askDeleteKey(k), "danger")),
  );
}

async function loadKeys() {
  const list = await api("GET", "/v1/keys");
  list.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  $("key-rows").replaceChildren(...list.map(keyRow));
  setText($("keys-count"), list.length);
  $("keys-empty").hidden = list.length > 0;
}

function askDeleteKey(k) {
  confirmThen(`Delete key ${k.name}?`, `Whatever uses the key ${k.name} (${k.role}) is refused from now on.`, async () => {
    await api("DELETE", `/v1/keys/${encodeURIComponent(k.id)}`);
    await loadKeys();
    report(`Deleted key ${k.name}.`);
  });
}

const newKey = $("new-key");
agentFieldFollowsRole($("nk-role"), $("nk-agent-field"));

newKey.addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = newKey.elements;
  const message = $("nk-message");
  const name = f.name.value.trim();
  const role = f.role.value;
  if (!name) {
    show(message, "Give the key a name (what uses it).");
    return;
  }
  if (role === "agent" && !f.agent_id.value) {
    show(message, "Choose the agent the key acts for.");
    return;
  }
  const body = { name, role };
  if (role === "agent") body.agent_id = f.agent_id.value;
  try {
    const made = await api("POST", "/v1/keys", body);
    show(message, "");
    f.name.value = "";
    $("nk-value").value = made.key;
    setText($("nk-copied"), "");
    $("nk-created").hidden = false;
    $("nk-value").focus();
    $("nk-value").select();
    report(`Created key ${made.name} (${made.role}).`);
    await loadKeys();
  } catch (exc) {
    show(message, problem(exc));
  }
});

$("nk-copy").addEventListener("click", async () => {
  const field = $("nk-value");
  let copied = false;
  try {
    await navigator.clipboard.writeText(field.value);
    copied = true;
  } catch {
    // No clipboard API (plain http on another host): the older way, from the selection.
    field.select();
    copied = document.execCommand?.("copy") ?? false;
  }
  setText($("nk-copied"), copied ? "Copied." : "Select the key and copy it (Ctrl+C).");
});

$("nk-done").addEventListener("click", () => {
  $("nk-value").value = "";
  $("nk-created").hidden = true;
  $("nk-name").focus();
});

// --- start ------------------------------------------------------------------------------

setText($("me"), `${me.display_name || me.username} (${me.role})`);
$("logout").addEventListener("click", () => logout());

const [agentList] = await Promise.allSettled([api("GET", "/v1/agents"), loadUsers().catch((exc) => report(`Loading users failed: ${problem(exc)}`, false)), loadKeys().catch((exc) => report(`Loading keys failed: ${problem(exc)}`, false))]);
if (agentList.status === "fulfilled") {
  agents = agentList.value.map((a) => ({ id: a.id, name: a.name })).sort((a, b) => a.id.localeCompare(b.id));
} else {
  report(`Loading agents failed: ${problem(agentList.reason)}`, false);
}
fillAgents($("nu-agent"), null);
fillAgents($("nk-agent"), null);
