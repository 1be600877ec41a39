// A queue's requirement (GET /v1/queues: `effective_requirement`, the canonical text of
// ccgateway/domain/requirements.py) as a predicate over an agent's skills and attributes,
// so the console can tell which agents serve which queue without asking the server on
// every state change. The server's grammar, read leniently: on anything unexpected the
// result is null and the page falls back to the server's counts.

const TOKEN = /\s*(?:("[^"]*"|'[^']*')|(>=|<=|==|!=|>|<)|([(),])|([a-z0-9][a-z0-9_.-]*))/y;
const OPS = {
  ">=": (a, b) => a >= b,
  ">": (a, b) => a > b,
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
};

function tokenize(text) {
  const tokens = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (!text.slice(at).trim()) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw new Error(`unexpected text at ${at}`);
    at = TOKEN.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: "string", text: m[1].slice(1, -1) });
    else if (m[2] !== undefined) tokens.push({ kind: "op", text: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: "punct", text: m[3] });
    else tokens.push({ kind: "word", text: m[4] });
  }
  return tokens;
}

/** `(skills, attributes) => boolean` for the requirement text, or null if unreadable. */
export function compileRequirement(text) {
  if (!text || !text.trim() || text.trim() === "true") return () => true;
  let tokens;
  try {
    tokens = tokenize(text);
  } catch {
    return null;
  }
  let i = 0;
  const peek = () => tokens[i];
  const take = (word) => {
    const t = tokens[i];
    if (t && t.kind !== "string" && t.text === word) {
      i += 1;
      return true;
    }
    return false;
  };
  const fail = () => {
    throw new Error("unreadable requirement");
  };

  function expr() {
    const parts = [conj()];
    while (take("or")) parts.push(conj());
    return parts.length === 1 ? parts[0] : (s, a) => parts.some((p) => p(s, a));
  }
  function conj() {
    const parts = [neg()];
    while (take("and")) parts.push(neg());
    return parts.length === 1 ? parts[0] : (s, a) => parts.every((p) => p(s, a));
  }
  function neg() {
    if (take("not")) {
      const inner = neg();
      return (s, a) => !inner(s, a);
    }
    return atom();
  }
  function list() {
    if (!take("(")) fail();
    const values = new Set();
    for (;;) {
      const t = peek();
      if (!t || t.kind !== "string") fail();
      values.add(t.text);
      i += 1;
      if (take(")")) return values;
      if (!take(",")) fail();
    }
  }
  function atom() {
    const t = peek();
    if (!t) fail();
    if (t.kind === "punct" && t.text === "(") {
      i += 1;
      const inner = expr();
      if (!take(")")) fail();
      return inner;
    }
    if (t.kind !== "word") fail();
    i += 1;
    if (t.text === "true") return () => true;
    if (t.text === "false") return () => false;
    const name = t.text;
    const next = peek();
    if (next && next.kind === "op") {
      i += 1;
      const value = peek();
      if (!value) fail();
      i += 1;
      if (value.kind === "string") {
        const negated = next.text === "!=";
        return (s, a) => ((a[name] ?? "") === value.text) !== negated;
      }
      const level = Number(value.text);
      if (!Number.isInteger(level)) fail();
      const op = OPS[next.text];
      return (s) => op(Number(s[name] ?? 0), level);
    }
    if (take("in")) {
      const values = list();
      return (s, a) => values.has(a[name] ?? "");
    }
    if (next && next.text === "not" && tokens[i + 1]?.text === "in") {
      i += 2;
      const values = list();
      return (s, a) => !values.has(a[name] ?? "");
    }
    return (s) => Number(s[name] ?? 0) >= 1;
  }

  try {
    const predicate = expr();
    if (i !== tokens.length) return null;
    return (skills, attributes) => predicate(skills || {}, attributes || {});
  } catch {
    return null;
  }
}
